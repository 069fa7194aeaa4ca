package catalog

import (
	"fmt"
	"math"
)

// Warehouse is a stock location with coordinates, the origin of shipments.
// Lat and Lon are degrees (WGS 84).
type Warehouse struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

// Validate reports a warehouse without an id or with coordinates off the
// globe, naming the field at fault.
func (w Warehouse) Validate() error {
	switch {
	case w.ID == "":
		return fmt.Errorf("catalog: warehouse %q: id is empty", w.Name)
	case math.IsNaN(w.Lat) || w.Lat < -90 || w.Lat > 90:
		return fmt.Errorf("catalog: warehouse %q: lat %v is outside [-90, 90]", w.ID, w.Lat)
	case math.IsNaN(w.Lon) || w.Lon < -180 || w.Lon > 180:
		return fmt.Errorf("catalog: warehouse %q: lon %v is outside [-180, 180]", w.ID, w.Lon)
	}
	return nil
}
