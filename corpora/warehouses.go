package corpora

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/aisle/aisle/catalog"
)

// NumWarehouses is the number of generated warehouses, "wh-001" to
// "wh-200".
const NumWarehouses = 200

// warehouseStream and placeStream key the warehouse and stock placement
// generators apart from the product generator (newRand), so that adding
// warehouses changed no other generated field.
const (
	warehouseStream = 0x5748_0001 // "WH"
	placeStream     = 0x5748_0002
)

// metros are the continental US metro areas the generated warehouses are
// placed around: city, state, latitude and longitude of the city centre.
var metros = [...]struct {
	city, state string
	lat, lon    float64
}{
	{"New York", "NY", 40.71, -74.01}, {"Newark", "NJ", 40.74, -74.17}, {"Philadelphia", "PA", 39.95, -75.17},
	{"Boston", "MA", 42.36, -71.06}, {"Hartford", "CT", 41.76, -72.67}, {"Albany", "NY", 42.65, -73.76},
	{"Buffalo", "NY", 42.89, -78.88}, {"Pittsburgh", "PA", 40.44, -80.00}, {"Baltimore", "MD", 39.29, -76.61},
	{"Richmond", "VA", 37.54, -77.44}, {"Charlotte", "NC", 35.23, -80.84}, {"Raleigh", "NC", 35.78, -78.64},
	{"Atlanta", "GA", 33.75, -84.39}, {"Savannah", "GA", 32.08, -81.09}, {"Jacksonville", "FL", 30.33, -81.66},
	{"Orlando", "FL", 28.54, -81.38}, {"Tampa", "FL", 27.95, -82.46}, {"Miami", "FL", 25.76, -80.19},
	{"Nashville", "TN", 36.16, -86.78}, {"Memphis", "TN", 35.15, -90.05}, {"Louisville", "KY", 38.25, -85.76},
	{"Birmingham", "AL", 33.52, -86.80}, {"New Orleans", "LA", 29.95, -90.07}, {"Columbus", "OH", 39.96, -83.00},
	{"Cleveland", "OH", 41.50, -81.69}, {"Cincinnati", "OH", 39.10, -84.51}, {"Detroit", "MI", 42.33, -83.05},
	{"Grand Rapids", "MI", 42.96, -85.67}, {"Indianapolis", "IN", 39.77, -86.16}, {"Chicago", "IL", 41.88, -87.63},
	{"Milwaukee", "WI", 43.04, -87.91}, {"Minneapolis", "MN", 44.98, -93.27}, {"Des Moines", "IA", 41.59, -93.62},
	{"St. Louis", "MO", 38.63, -90.20}, {"Kansas City", "MO", 39.10, -94.58}, {"Omaha", "NE", 41.26, -95.93},
	{"Oklahoma City", "OK", 35.47, -97.52}, {"Tulsa", "OK", 36.15, -95.99}, {"Dallas", "TX", 32.78, -96.80},
	{"Fort Worth", "TX", 32.76, -97.33}, {"Houston", "TX", 29.76, -95.37}, {"San Antonio", "TX", 29.42, -98.49},
	{"Austin", "TX", 30.27, -97.74}, {"El Paso", "TX", 31.76, -106.49}, {"Albuquerque", "NM", 35.08, -106.65},
	{"Denver", "CO", 39.74, -104.99}, {"Salt Lake City", "UT", 40.76, -111.89}, {"Boise", "ID", 43.62, -116.20},
	{"Phoenix", "AZ", 33.45, -112.07}, {"Tucson", "AZ", 32.22, -110.97}, {"Las Vegas", "NV", 36.17, -115.14},
	{"Reno", "NV", 39.53, -119.81}, {"Los Angeles", "CA", 34.05, -118.24}, {"Ontario", "CA", 34.06, -117.65},
	{"San Diego", "CA", 32.72, -117.16}, {"Fresno", "CA", 36.74, -119.79}, {"Sacramento", "CA", 38.58, -121.49},
	{"Oakland", "CA", 37.80, -122.27}, {"Portland", "OR", 45.52, -122.68}, {"Seattle", "WA", 47.61, -122.33},
	{"Spokane", "WA", 47.66, -117.43}, {"Billings", "MT", 45.78, -108.50}, {"Fargo", "ND", 46.88, -96.79},
	{"Sioux Falls", "SD", 43.55, -96.73},
}

// warehouseID returns the id of the i-th generated warehouse, 0-based.
func warehouseID(i int) string { return fmt.Sprintf("wh-%03d", i+1) }

// Warehouses returns the NumWarehouses generated warehouses of the
// default store: each is placed near a continental US metro area drawn
// with a fixed seed (Seed, warehouseStream), its coordinates jittered by
// up to about 20 km, and named after the metro and its number, e.g.
// "Reno NV #12". The list is the same on every call and every machine.
// Nothing about them is real: they exist so that orders route somewhere.
func Warehouses() []catalog.Warehouse {
	r := rand.New(rand.NewPCG(Seed, warehouseStream))
	out := make([]catalog.Warehouse, NumWarehouses)
	for i := range out {
		m := metros[r.IntN(len(metros))]
		lat := m.lat + 0.36*(r.Float64()-0.5)
		lon := m.lon + 0.46*(r.Float64()-0.5)
		out[i] = catalog.Warehouse{
			ID:   warehouseID(i),
			Name: fmt.Sprintf("%s %s #%d", m.city, m.state, i+1),
			Lat:  math.Round(lat*1e4) / 1e4,
			Lon:  math.Round(lon*1e4) / 1e4,
		}
	}
	return out
}
