package bench

import "context"

// ScalePoint is one engine at one catalog size.
type ScalePoint struct {
	Engine   string `json:"engine"`
	Products int    `json:"products"`
	Build    Build  `json:"build"`
	Load     Load   `json:"load"`
	Facets   Load   `json:"filters_facets"`
}

func (c *Config) scale(ctx context.Context, log []Query) ([]ScalePoint, error) { return nil, nil }
