package corpora

import (
	"bytes"
	"fmt"
	"strconv"
)

// RetailBaskets returns the 88,162 baskets of the FIMI "retail" data set
// (a Belgian supermarket, Brijs et al. 1999): item ids as written, one
// basket per line, in file order. They have no products behind them;
// they cross-check the association rules of recs on a standard data set.
func RetailBaskets() ([][]int32, error) {
	b, err := ReadFile(retailBaskets)
	if err != nil {
		return nil, err
	}
	var out [][]int32
	err = lines(b, func(n int, line []byte) error {
		var bk []int32
		for f := range bytes.FieldsSeq(line) {
			id, err := strconv.ParseInt(string(f), 10, 32)
			if err != nil || id < 0 {
				return fmt.Errorf("corpora: %s line %d: item %q is not an id", retailBaskets, n, f)
			}
			bk = append(bk, int32(id))
		}
		out = append(out, bk)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
