package commerce

import (
	"fmt"

	"github.com/aisle/aisle/catalog"
)

// ItemUnavailableError is the error of a cart line that can no longer be
// bought: its variant is gone from the catalog, or priced in another
// currency than the store's.
type ItemUnavailableError struct{ VariantID string }

func (e *ItemUnavailableError) Error() string {
	return fmt.Sprintf("commerce: the cart holds variant %q, which is no longer sold", e.VariantID)
}

// VariantFinder finds the product of a variant (the live catalog).
type VariantFinder interface {
	ProductOfVariant(variantID string) (*catalog.Product, bool)
}

// PriceCart prices the lines of a checkout from the cart's items and the
// catalog now: each line gets its variant's current price and its
// product's id and title. A variant the catalog no longer holds, or one
// priced in another currency than currency, refuses the whole cart with an
// *ItemUnavailableError naming it. A nil catalog holds nothing.
func PriceCart(items []Item, cat VariantFinder, currency string) ([]SessionLine, error) {
	lines := make([]SessionLine, 0, len(items))
	for _, it := range items {
		var v *catalog.Variant
		var p *catalog.Product
		if cat != nil {
			if p, _ = cat.ProductOfVariant(it.VariantID); p != nil {
				for i := range p.Variants {
					if p.Variants[i].ID == it.VariantID {
						v = &p.Variants[i]
					}
				}
			}
		}
		if v == nil || v.Price.Currency != currency {
			return nil, &ItemUnavailableError{VariantID: it.VariantID}
		}
		lines = append(lines, SessionLine{VariantID: v.ID, ProductID: p.ID, Title: p.Title, Quantity: it.Quantity, Price: v.Price})
	}
	return lines, nil
}
