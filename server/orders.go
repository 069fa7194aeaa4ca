package server

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aisle/aisle/commerce"
	"github.com/valyala/fasthttp"
)

// The order endpoints of issue 7 (doc/checkout.md):
//
//	GET /api/v1/orders[?limit=n]   the token user's orders, newest first -> {"orders":[order...]}
//	GET /api/v1/orders/{order_id}  one order; 404 for another user's
//
// They are served by the checkout service (Services.Checkout); shipments come
// from CheckoutOptions.Shipments.

const ordersPath = "/api/v1/orders"

// MaxOrdersListed bounds GET /api/v1/orders.
const MaxOrdersListed = 100

func (s *Server) ordersRoute(ctx *fasthttp.RequestCtx, path string) {
	id := ""
	if path != ordersPath {
		id = path[len(ordersPath)+1:]
		if id == "" || strings.Contains(id, "/") {
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
			return
		}
	}
	if !ctx.IsGet() {
		ctx.Response.Header.Set("Allow", "GET")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use GET", "")
		return
	}
	s.RequireUser(func(ctx *fasthttp.RequestCtx, user string) {
		c := s.checkout
		if c == nil {
			notBuilt(ctx, "orders")
			return
		}
		if id != "" {
			o, err := c.co.Order(user, id)
			if errors.Is(err, commerce.ErrNotYours) {
				// 404, not 403: a 403 would confirm the order exists.
				writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such order: "+id, "")
				return
			}
			if err != nil {
				s.checkoutError(ctx, err)
				return
			}
			writeJSON(ctx, fasthttp.StatusOK, s.orderJSON(c, o))
			return
		}
		limit := 20
		var perr *paramError
		ctx.QueryArgs().VisitAll(func(k, _ []byte) {
			if perr == nil && string(k) != "limit" {
				perr = &paramError{Code: CodeUnknownParameter, Param: string(k),
					Message: strconv.Quote(string(k)) + " is not a parameter of the order list; want limit"}
			}
		})
		if perr == nil && len(ctx.QueryArgs().PeekMulti("limit")) > 1 {
			perr = invalid("limit", "is given more than once")
		}
		if perr != nil {
			writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
			return
		}
		if v := ctx.QueryArgs().Peek("limit"); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 1 || n > MaxOrdersListed {
				writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, "limit must be an integer from 1 to "+strconv.Itoa(MaxOrdersListed), "limit")
				return
			}
			limit = n
		}
		list, err := c.co.Orders(user, limit)
		if err != nil {
			s.checkoutError(ctx, err)
			return
		}
		out := struct {
			Orders []*orderView `json:"orders"`
		}{Orders: make([]*orderView, 0, len(list))}
		for _, o := range list {
			out.Orders = append(out.Orders, s.orderJSON(c, o))
		}
		writeJSON(ctx, fasthttp.StatusOK, out)
	})(ctx)
}

type orderView struct {
	OrderID   string              `json:"order_id"`
	UserID    string              `json:"user_id"`
	Status    string              `json:"status"`
	PlacedAt  time.Time           `json:"placed_at"`
	Lines     []lineJSON          `json:"lines"`
	Subtotal  priceJSON           `json:"subtotal"`
	Shipping  optionJSON          `json:"shipping"`
	Total     priceJSON           `json:"total"`
	Address   commerce.Address    `json:"address"`
	Payment   paymentJSON         `json:"payment"`
	Shipments []commerce.Shipment `json:"shipments"`
}

// orderJSON is the order with its shipments; none when the shipments
// cannot be read (logged) or before fulfillment routed the order.
func (s *Server) orderJSON(c *checkoutConfig, o *commerce.Order) *orderView {
	v := &orderView{OrderID: o.ID, UserID: o.UserID, Status: o.Status, PlacedAt: o.PlacedAt, Lines: linesJSON(o.Lines),
		Subtotal: priceJSON(o.Subtotal), Shipping: optionJSON{o.Shipping.Option, priceJSON(o.Shipping.Price), o.Shipping.Days},
		Total: priceJSON(o.Total), Address: o.Address, Payment: paymentJSON{Last4: o.Last4}, Shipments: []commerce.Shipment{}}
	if c.opts.Shipments != nil {
		ships, err := c.opts.Shipments.Shipments(o.ID)
		if err != nil {
			s.logf("server: shipments of order %q: %v", o.ID, err)
		} else if ships != nil {
			v.Shipments = ships
		}
	}
	return v
}
