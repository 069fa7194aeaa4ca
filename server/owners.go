package server

import "sync"

// maxOwners bounds the products owners remembers: ten bulk jobs of the
// largest size. Past it the oldest entry goes; a product of that age has
// long been applied by the index, which then answers for it.
const maxOwners = 100_000

// owners remembers the seller of each product created through this server
// for the moment between the publish and the index applying it: a PUT
// right after a POST must not be refused as unknown, nor allowed to
// another seller. An entry goes once the index holds the product
// (ownerOf), when its publish failed, or, past maxOwners, oldest first.
type owners struct {
	mu    sync.Mutex
	m     map[string]string // product id -> seller id
	order []string          // ids in insertion order; may hold ids already gone
}

func (o *owners) store(id, seller string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]string{}
	}
	if _, ok := o.m[id]; !ok {
		o.order = append(o.order, id)
	}
	o.m[id] = seller
	for len(o.m) > maxOwners && len(o.order) > 0 {
		delete(o.m, o.order[0])
		o.order = o.order[1:]
	}
	if len(o.order) > 2*maxOwners { // ids deleted before they aged out
		o.compact()
	}
}

// compact drops the ids of order no longer in m.
func (o *owners) compact() {
	kept := make([]string, 0, len(o.m))
	for _, id := range o.order {
		if _, ok := o.m[id]; ok {
			kept = append(kept, id)
		}
	}
	o.order = kept
}

func (o *owners) load(id string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.m[id]
	return s, ok
}

func (o *owners) delete(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.m, id)
	if len(o.m) == 0 {
		o.order = o.order[:0]
	}
}

func (o *owners) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.m)
}

// ownerOf returns the seller of a product, and whether the product is
// known at all. A product the server does not know goes on to the writer,
// which answers 404 for it. Once the index holds a product this server
// remembered, with the same seller, the entry goes: the index answers.
func (s *Server) ownerOf(productID string) (string, bool) {
	seller, remembered := s.owners.load(productID)
	if p, ok := s.eng.Product(productID); ok && p != nil {
		if !remembered || p.SellerID == seller {
			if remembered {
				s.owners.delete(productID)
			}
			return p.SellerID, true
		}
	}
	return seller, remembered
}
