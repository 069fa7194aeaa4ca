// Package browser holds the end-to-end test of the storefront page
// (issue 9) in a real headless Chromium, driven over the DevTools protocol
// by chromedp. It has no non-test code.
//
// TestStorefront builds the aisle binary, starts `aisle serve` on a
// loopback port with a fresh data directory, starts /usr/bin/chromium with
// a fresh user data directory and walks a shopper's visit: a misspelt query
// and its correction, a brand facet, a product page, its bundle into the
// cart, the checkout and the order with its shipments. It takes a
// screenshot at each step into the test's output directory (-out, or a
// temporary one), and with -update-screenshots writes doc/img/search.png
// and doc/img/product.png for the README. Any console error or uncaught
// exception of the page fails it.
//
// Chromium may reach only the loopback address: every other request (the
// catalog's product images are on remote hosts) is failed by the test
// before it leaves the browser, and the page shows its placeholder.
//
// Without /usr/bin/chromium the test skips, except under CI=true, where a
// missing browser is a failure (.ci/run installs Debian's chromium).
//
// The test runs alone: one browser and one server at a time, bounded by a
// few minutes; steps share the browser tab and run in order.
package browser
