package commerce

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
)

// Fulfillment (doc/fulfillment.md): a placed order is routed to
// warehouses once, gets one pick list per warehouse and one shipment per
// pick list, and is then shipped and delivered.
//
// Exactly once: the routing decision of an order is stored in bucket
// "routed" under the order id, in the same transaction as its shipments,
// pick lists, reservation and order status. Every handling of an orders
// event starts by reading that key inside the transaction; bbolt runs one
// writer at a time, so of two deliveries of one event (a redelivery, a
// second consumer) exactly one finds no decision and writes it, and every
// other finds it and changes nothing.

var (
	bucketRouted    = []byte("routed")    // order id -> Decision JSON
	bucketShipments = []byte("shipments") // order id -> []Shipment JSON
	bucketPickLists = []byte("picklists") // warehouse id 0x00 order id -> PickList JSON, until shipped
	bucketCarrier   = []byte("carrier")   // unix ns (8 bytes) + order id -> empty: routed or shipped since
)

// DefaultDestination routes an order without coordinates: the geographic
// centre of the contiguous United States, near Lebanon, Kansas.
var DefaultDestination = Point{Lat: 39.83, Lon: -98.58}

// Shipment statuses.
const (
	ShipmentPicking   = "picking"
	ShipmentShipped   = "shipped"
	ShipmentDelivered = "delivered"
)

// Reasons a routing decision cancels an order.
const (
	ReasonOutOfStock     = "out_of_stock"    // a line cannot be reserved anywhere; Decision.Param names the variant
	ReasonUnknownVariant = "unknown_variant" // a line names no usable variant (or quantity); Decision.Param names the product
	ReasonCancelled      = "order_cancelled" // the order was cancelled before it was routed
)

// ShipmentLine is one variant in a shipment or a pick list.
type ShipmentLine struct {
	VariantID string `json:"variant_id"`
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// Shipment is what one warehouse sends for an order.
type Shipment struct {
	ID            string         `json:"shipment_id"`
	WarehouseID   string         `json:"warehouse_id"`
	WarehouseName string         `json:"warehouse_name"`
	DistanceKm    float64        `json:"distance_km"`
	Status        string         `json:"status"`
	Lines         []ShipmentLine `json:"lines"`
}

// PickList tells one warehouse what to pick for a shipment. Pick lists
// are kept per warehouse (bucket "picklists", key warehouse id 0x00 order
// id) until the shipment leaves.
type PickList struct {
	ID          string         `json:"pick_list_id"`
	OrderID     string         `json:"order_id"`
	ShipmentID  string         `json:"shipment_id"`
	WarehouseID string         `json:"warehouse_id"`
	Lines       []ShipmentLine `json:"lines"`
	CreatedAt   time.Time      `json:"created_at"`
}

// Decision is the routing decision of one order, written once.
type Decision struct {
	OrderID string `json:"order_id"`
	// Status follows the order: routed, shipped, delivered; or cancelled
	// (Reason and Param say why) and then never anything else.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	Param  string `json:"param,omitempty"`
	// Reserved is true when fulfillment routed and hard-reserved the
	// lines itself (the order came without routed lines); the
	// reservation, under the order id, is deducted when the order ships.
	// Lines routed at checkout were reserved and deducted there.
	Reserved    bool      `json:"reserved"`
	Destination Point     `json:"destination"`
	Lines       []Line    `json:"lines,omitempty"`
	Shipments   int       `json:"shipments"`
	DistanceKm  float64   `json:"distance_km"` // summed over the shipments
	RoutedAt    time.Time `json:"routed_at"`
	ShippedAt   time.Time `json:"shipped_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

func getJSON[T any](tx kvTx, bucket []byte, key string) (*T, error) {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	out := new(T)
	if err := json.Unmarshal(v, out); err != nil {
		return nil, fmt.Errorf("commerce: corrupt %s record %q: %w", bucket, key, err)
	}
	return out, nil
}

func putJSON(tx kvTx, bucket []byte, key string, v any) error {
	b := tx.Bucket(bucket)
	enc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), enc)
}

func carrierKey(t time.Time, orderID string) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(orderID)), uint64(t.UnixNano())), orderID...)
}

func checkOrderID(id string) error {
	if id == "" || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("%w: order id %q is empty or holds a NUL", ErrLine, id)
	}
	return nil
}

// HandleOrderEvent routes the order of an orders event once: the
// consumer of the orders topic calls it for every record, redeliveries
// included. It returns the order's decision, the stored one when the
// order was already routed. The stored order record (written by
// checkout) wins over the event; an event without a record (replayed or
// from another system) creates the order from the event's lines,
// shipped to DefaultDestination.
func (s *Store) HandleOrderEvent(ws *Warehouses, e catalog.OrderEvent) (*Decision, error) {
	if err := checkOrderID(e.OrderID); err != nil {
		return nil, err
	}
	return s.fulfill(ws, e.OrderID, &e)
}

// OrderHandler returns HandleOrderEvent bound to ws, for a consumer loop.
func (s *Store) OrderHandler(ws *Warehouses) func(catalog.OrderEvent) error {
	return func(e catalog.OrderEvent) error {
		_, err := s.HandleOrderEvent(ws, e)
		return err
	}
}

// Fulfill routes the stored order orderID once (see HandleOrderEvent);
// ErrNoOrder when there is no such order.
func (s *Store) Fulfill(ws *Warehouses, orderID string) (*Decision, error) {
	if err := checkOrderID(orderID); err != nil {
		return nil, err
	}
	return s.fulfill(ws, orderID, nil)
}

func (s *Store) fulfill(ws *Warehouses, id string, ev *catalog.OrderEvent) (*Decision, error) {
	var out *Decision
	err := s.txn(func(tx kvTx) (error, error) {
		var refusal, err error
		out, refusal, err = fulfillTx(tx, ws, id, ev, s.opts.Now().UTC())
		return refusal, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// orderFromEvent is the order record of an event that has none.
func orderFromEvent(e *catalog.OrderEvent) *Order {
	o := &Order{ID: e.OrderID, UserID: e.UserID, Status: OrderPlaced, PlacedAt: e.PlacedAt.UTC()}
	sameCurrency := true
	for i, l := range e.Lines {
		o.Lines = append(o.Lines, SessionLine{VariantID: l.VariantID, ProductID: l.ProductID, Quantity: l.Quantity, Price: l.Price})
		if i == 0 {
			o.Subtotal.Currency = l.Price.Currency
		}
		sameCurrency = sameCurrency && l.Price.Currency == o.Subtotal.Currency
		o.Subtotal.Amount += l.Price.Amount * int64(l.Quantity)
	}
	if !sameCurrency {
		o.Subtotal = catalog.Money{}
	}
	o.Total = o.Subtotal
	return o
}

func destination(a Address) Point {
	p := Point{a.Lat, a.Lon}
	if p == (Point{}) || !validPoint(p) {
		return DefaultDestination
	}
	return p
}

// fulfillTx is one routing decision inside tx; see the top of the file.
func fulfillTx(tx kvTx, ws *Warehouses, id string, ev *catalog.OrderEvent, now time.Time) (*Decision, error, error) {
	if d, err := getJSON[Decision](tx, bucketRouted, id); d != nil || err != nil {
		return d, nil, err // decided before: nothing more
	}
	o, err := getOrder(tx, id)
	if err != nil {
		return nil, nil, err
	}
	fresh := o == nil
	if fresh {
		if ev == nil {
			return nil, fmt.Errorf("%w: %q", ErrNoOrder, id), nil
		}
		o = orderFromEvent(ev)
	}
	d := &Decision{OrderID: id, Status: OrderRouted, Destination: destination(o.Address), RoutedAt: now}
	lines := o.Routed
	switch {
	case o.Status == OrderCancelled:
		d.Status, d.Reason = OrderCancelled, ReasonCancelled
	case len(lines) > 0: // routed, reserved and paid at checkout
	default:
		wants := make([]Want, 0, len(o.Lines))
		for _, l := range o.Lines {
			if l.VariantID == "" || strings.IndexByte(l.VariantID, 0) >= 0 || l.Quantity <= 0 || l.Quantity > maxWant {
				d.Status, d.Reason, d.Param = OrderCancelled, ReasonUnknownVariant, l.ProductID
				break
			}
			wants = append(wants, Want{VariantID: l.VariantID, ProductID: l.ProductID, Quantity: l.Quantity})
		}
		if d.Status == OrderCancelled {
			break
		}
		var short *ShortError
		switch lines, err = routeTx(tx, ws, d.Destination, wants); {
		case errors.As(err, &short):
			d.Status, d.Reason, d.Param = OrderCancelled, ReasonOutOfStock, short.VariantID
		case errors.Is(err, ErrLine): // a variant's lines sum past maxWant
			d.Status, d.Reason, d.Param = OrderCancelled, ReasonUnknownVariant, err.Error()
		case err != nil:
			return nil, nil, fmt.Errorf("commerce: routing order %q: %w", id, err)
		default:
			// The stock Route read is the stock of this transaction, so
			// the reservation cannot be refused; refuse all the same
			// rather than oversell.
			_, refusal, err := hardReserveTx(tx, id, lines)
			if err != nil {
				return nil, nil, err
			}
			if refusal != nil {
				d.Status, d.Reason, d.Param = OrderCancelled, ReasonOutOfStock, lines[0].VariantID
				break
			}
			d.Reserved = true
			o.Routed = lines
		}
	}
	if d.Status == OrderRouted {
		ships, picks := plan(ws, id, o, lines, d.Destination, now)
		d.Lines, d.Shipments = lines, len(ships)
		for _, sh := range ships {
			d.DistanceKm += sh.DistanceKm
		}
		if err := putJSON(tx, bucketShipments, id, ships); err != nil {
			return nil, nil, err
		}
		for _, p := range picks {
			if err := putJSON(tx, bucketPickLists, p.WarehouseID+"\x00"+id, p); err != nil {
				return nil, nil, err
			}
		}
		if err := putCarrier(tx, now, id); err != nil {
			return nil, nil, err
		}
	}
	o.Status = d.Status
	if err := putOrder(tx, o); err != nil {
		return nil, nil, err
	}
	if fresh && o.UserID != "" {
		if err := tx.Bucket(bucketUserOrders).Put(userOrderKey(o.UserID, o.PlacedAt, o.ID), nil); err != nil {
			return nil, nil, err
		}
	}
	return d, nil, putJSON(tx, bucketRouted, id, d)
}

func putCarrier(tx kvTx, t time.Time, id string) error {
	return tx.Bucket(bucketCarrier).Put(carrierKey(t, id), nil)
}

func deleteCarrier(tx kvTx, t time.Time, id string) error {
	if b := tx.Bucket(bucketCarrier); b != nil {
		return b.Delete(carrierKey(t, id))
	}
	return nil
}

// plan groups lines into one shipment and one pick list per warehouse,
// nearest warehouse first; shipment k of order o is "o/s<k>" and its pick
// list "o/p<k>".
func plan(ws *Warehouses, id string, o *Order, lines []Line, dest Point, now time.Time) ([]Shipment, []PickList) {
	product := map[string]string{}
	for _, l := range o.Lines {
		product[l.VariantID] = l.ProductID
	}
	byWH := map[string][]ShipmentLine{}
	var whs []string
	for _, l := range lines {
		if _, ok := byWH[l.WarehouseID]; !ok {
			whs = append(whs, l.WarehouseID)
		}
		byWH[l.WarehouseID] = append(byWH[l.WarehouseID], ShipmentLine{VariantID: l.VariantID, ProductID: product[l.VariantID], Quantity: l.Quantity})
	}
	dist := map[string]float64{}
	for _, w := range whs {
		dist[w] = ws.Distance(w, dest)
	}
	slices.SortFunc(whs, func(a, b string) int { return cmp.Or(cmp.Compare(dist[a], dist[b]), strings.Compare(a, b)) })
	ships := make([]Shipment, len(whs))
	picks := make([]PickList, len(whs))
	for k, w := range whs {
		name := w
		if wh, ok := ws.Get(w); ok && wh.Name != "" {
			name = wh.Name
		}
		ships[k] = Shipment{ID: fmt.Sprintf("%s/s%d", id, k+1), WarehouseID: w, WarehouseName: name,
			DistanceKm: float64(int64(dist[w]*10+0.5)) / 10, Status: ShipmentPicking, Lines: byWH[w]}
		picks[k] = PickList{ID: fmt.Sprintf("%s/p%d", id, k+1), OrderID: id, ShipmentID: ships[k].ID, WarehouseID: w, Lines: byWH[w], CreatedAt: now}
	}
	return ships, picks
}

// Decision returns the routing decision of orderID; nil when the order
// was not routed yet.
func (s *Store) Decision(orderID string) (*Decision, error) {
	var out *Decision
	err := s.view(func(tx kvTx) error {
		var err error
		out, err = getJSON[Decision](tx, bucketRouted, orderID)
		return err
	})
	return out, err
}

// Shipments returns the shipments of orderID, nearest warehouse first;
// none before the order is routed or when it was cancelled.
func (s *Store) Shipments(orderID string) ([]Shipment, error) {
	var out []Shipment
	err := s.view(func(tx kvTx) error {
		p, err := getJSON[[]Shipment](tx, bucketShipments, orderID)
		if p != nil {
			out = *p
		}
		return err
	})
	return out, err
}

// PickLists returns the open pick lists of warehouse (not shipped yet),
// oldest order id first.
func (s *Store) PickLists(warehouse string) ([]PickList, error) {
	var out []PickList
	err := s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketPickLists)
		if b == nil {
			return nil
		}
		prefix := []byte(warehouse + "\x00")
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var p PickList
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("commerce: corrupt pick list %q: %w", k, err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Purchased returns the order id that delivered productID to userID;
// "" when none did.
func (s *Store) Purchased(userID, productID string) (string, error) {
	var out string
	err := s.view(func(tx kvTx) error {
		out = string(tx.Bucket(bucketPurchases).Get([]byte(userID + "\x00" + productID)))
		return nil
	})
	return out, err
}

func (s *Store) view(fn func(tx kvTx) error) error {
	err := s.db.view(fn)
	if errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return err
}

// MarkShipped records that every shipment of orderID left its
// warehouse: a reservation fulfillment made is deducted, the pick lists
// are closed, shipments and order become "shipped". Repeating it, or
// calling it on a delivered order, changes nothing; a cancelled or
// unrouted order is ErrState or ErrNoOrder.
func (s *Store) MarkShipped(orderID string) error {
	return s.advance(orderID, OrderShipped)
}

// MarkDelivered records that orderID arrived (shipping it first if it
// was only routed): shipments and order become "delivered" and, in the
// same transaction, bucket "purchases" maps user id 0x00 product id to
// the order id for every product of the order (the verified-purchase
// badge of reviews). Repeating it changes nothing.
func (s *Store) MarkDelivered(orderID string) error {
	return s.advance(orderID, OrderDelivered)
}

func (s *Store) advance(id, to string) error {
	now := s.opts.Now().UTC()
	return s.txn(func(tx kvTx) (error, error) {
		return advanceTx(tx, id, to, now)
	})
}

func advanceTx(tx kvTx, id, to string, now time.Time) (error, error) {
	d, err := getJSON[Decision](tx, bucketRouted, id)
	switch {
	case err != nil:
		return nil, err
	case d == nil:
		return fmt.Errorf("%w: %q is not routed", ErrNoOrder, id), nil
	case d.Status == OrderCancelled:
		return fmt.Errorf("%w: order %q is cancelled (%s), it cannot become %s", ErrState, id, d.Reason, to), nil
	case d.Status == to || d.Status == OrderDelivered:
		return nil, nil // done before
	}
	o, err := getOrder(tx, id)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("commerce: order %q has a routing decision and no order record", id)
	}
	shipsP, err := getJSON[[]Shipment](tx, bucketShipments, id)
	if err != nil {
		return nil, err
	}
	var ships []Shipment
	if shipsP != nil {
		ships = *shipsP
	}
	if d.Status == OrderRouted { // ship
		if d.Reserved {
			if _, refusal, err := transitionTx(tx, id, []ReservationState{Hard}, Deducted, true); refusal != nil || err != nil {
				return nil, cmpOr(err, refusal)
			}
		}
		if b := tx.Bucket(bucketPickLists); b != nil {
			for _, sh := range ships {
				if err := b.Delete([]byte(sh.WarehouseID + "\x00" + id)); err != nil {
					return nil, err
				}
			}
		}
		if err := deleteCarrier(tx, d.RoutedAt, id); err != nil {
			return nil, err
		}
		d.Status, d.ShippedAt = OrderShipped, now
		if to == OrderShipped {
			if err := putCarrier(tx, now, id); err != nil {
				return nil, err
			}
		}
	}
	if to == OrderDelivered { // deliver
		if err := deleteCarrier(tx, d.ShippedAt, id); err != nil {
			return nil, err
		}
		if o.UserID != "" {
			pb := tx.Bucket(bucketPurchases)
			for _, l := range o.Lines {
				if err := pb.Put([]byte(o.UserID+"\x00"+l.ProductID), []byte(id)); err != nil {
					return nil, err
				}
			}
		}
		d.Status, d.DeliveredAt = OrderDelivered, now
	}
	for i := range ships {
		ships[i].Status = to
	}
	if err := putJSON(tx, bucketShipments, id, ships); err != nil {
		return nil, err
	}
	o.Status = to
	if err := putOrder(tx, o); err != nil {
		return nil, err
	}
	return nil, putJSON(tx, bucketRouted, id, d)
}

// SimulateCarrier plays the carrier for the embedded demo until ctx
// ends: an order routed for longer than after is shipped, and one
// shipped for longer than after is delivered. It returns ctx's error, or
// ErrClosed when the store closes.
func (s *Store) SimulateCarrier(ctx context.Context, after time.Duration) error {
	tick := min(max(after/4, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		due := s.opts.Now().Add(-after).UnixNano()
		var ids []string
		err := s.view(func(tx kvTx) error {
			b := tx.Bucket(bucketCarrier)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, _ := c.First(); k != nil && len(ids) < 1000; k, _ = c.Next() {
				if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) > due {
					break
				}
				ids = append(ids, string(k[8:]))
			}
			return nil
		})
		if errors.Is(err, ErrClosed) {
			return err
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d, err := s.Decision(id)
			if errors.Is(err, ErrClosed) {
				return err
			}
			if err != nil || d == nil {
				continue
			}
			next := OrderShipped
			if d.Status == OrderShipped {
				next = OrderDelivered
			}
			if err := s.advance(id, next); errors.Is(err, ErrClosed) {
				return err
			}
		}
	}
}
