package corpora

import (
	"bytes"
	"fmt"
)

// Order is one Instacart basket of order_products.csv.
type Order struct {
	ID int32
	// Products are Instacart product ids in add-to-cart order; the store id
	// of product n is "instacart-<n>".
	Products []int32
}

// InstacartOrders returns the 105,128 orders of order_products.csv (the
// train split of the 2017 release: no users, no times), in file order. The
// Products slices share one backing array; the caller owns them.
func InstacartOrders() ([]Order, error) {
	var (
		orders []Order
		all    = make([]int32, 0, 1_110_000)
		start  int
	)
	err := scanOrderLines(func(order, product int32) {
		if len(orders) == 0 || orders[len(orders)-1].ID != order {
			if len(orders) > 0 {
				orders[len(orders)-1].Products = all[start:len(all):len(all)]
			}
			orders = append(orders, Order{ID: order})
			start = len(all)
		}
		all = append(all, product)
	})
	if err != nil {
		return nil, err
	}
	if len(orders) > 0 {
		orders[len(orders)-1].Products = all[start:len(all):len(all)]
	}
	return orders, nil
}

// InstacartOrderCounts returns, indexed by Instacart product_id, the number
// of orders in order_products.csv that contain the product (a product
// appears at most once per order, so this counts its lines).
func InstacartOrderCounts() ([]int32, error) {
	counts := make([]int32, 50000)
	err := scanOrderLines(func(_, id int32) {
		if int(id) >= len(counts) {
			counts = append(counts, make([]int32, int(id)+1-len(counts))...)
		}
		counts[id]++
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// scanOrderLines calls fn with the order and product id of every line of
// order_products.csv, in file order. It parses the CSV by hand: the file has
// 1.1 million rows of four integers, and encoding/csv would allocate per row.
func scanOrderLines(fn func(order, product int32)) error {
	b, err := ReadFile(instacartOrderRows)
	if err != nil {
		return err
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 || string(bytes.TrimSpace(b[:nl])) != "order_id,product_id,add_to_cart_order,reordered" {
		return fmt.Errorf("corpora: reading %s: unexpected header", instacartOrderRows)
	}
	line := 1
	for i := nl + 1; i < len(b); {
		line++
		order, j, ok := parseID(b, i)
		if !ok {
			return fmt.Errorf("corpora: reading %s line %d: bad order_id", instacartOrderRows, line)
		}
		product, j, ok := parseID(b, j+1)
		if !ok {
			return fmt.Errorf("corpora: reading %s line %d: bad product_id", instacartOrderRows, line)
		}
		fn(order, product)
		for j < len(b) && b[j] != '\n' {
			j++
		}
		i = j + 1
	}
	return nil
}

// parseID parses the positive decimal integer at b[i:], which must end in a
// comma, and returns it with the offset of the comma.
func parseID(b []byte, i int) (int32, int, bool) {
	n, start := 0, i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 9 {
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == start || i >= len(b) || b[i] != ',' {
		return 0, i, false
	}
	return int32(n), i, true
}
