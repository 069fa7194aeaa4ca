// Aisle storefront: a single-page app on the Aisle HTTP API (doc/api.md),
// hash-routed, no framework and no build step. See doc/storefront.md.
'use strict';
(() => {
  // ---- small helpers -------------------------------------------------
  const $ = (s, el = document) => el.querySelector(s);
  const main = $('#main');

  // h builds an element: h('a', {href: '#/'}, 'text', child...). Text is
  // always set as text, never as HTML.
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style') el.style.cssText = v; // through the CSSOM, which the CSP allows
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat(9)) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  const fmts = {};
  function money(p) {
    if (!p || p.amount == null) return '';
    const c = p.currency || 'USD';
    fmts[c] = fmts[c] || new Intl.NumberFormat('en-US', {style: 'currency', currency: c});
    return fmts[c].format(p.amount);
  }
  function priceEl(p) {
    return h('span', {class: 'price'}, money(p),
      p && p.was > p.amount ? h('s', {'aria-label': 'was ' + money({amount: p.was, currency: p.currency})}, money({amount: p.was, currency: p.currency})) : null);
  }
  function stars(avg, count) {
    const n = Math.round(avg || 0);
    return h('span', {}, h('span', {class: 'stars', role: 'img', 'aria-label': (avg || 0).toFixed(1) + ' out of 5 stars'}, '★'.repeat(n) + '☆'.repeat(5 - n)),
      count != null ? h('span', {class: 'n'}, '(' + count + ')') : null);
  }
  function stockEl(status, hint) {
    const s = status === true ? 'IN_STOCK' : status === false ? 'OUT_OF_STOCK' : status;
    const cls = s === 'OUT_OF_STOCK' ? 'out' : s === 'LOW_STOCK' ? 'low' : 'in';
    const txt = s === 'OUT_OF_STOCK' ? 'Out of stock' : s === 'LOW_STOCK' ? (hint || 'Low stock') : 'In stock';
    return h('span', {class: 'badge ' + cls}, txt);
  }
  // img shows a product picture, or its initial when there is none or it
  // does not load (image hosts may be unreachable).
  function img(src, alt, cls) {
    const ph = h('div', {class: cls || 'img', 'aria-hidden': 'true'}, (alt || '?').trim().charAt(0).toUpperCase());
    if (!src) return ph;
    const el = h('img', {class: cls || 'img', src, alt: alt || '', loading: 'lazy', decoding: 'async'});
    el.addEventListener('error', () => el.replaceWith(ph), {once: true});
    return el;
  }
  // put replaces el's children with kids, arrays flattened, nulls dropped.
  function put(el, ...kids) { el.replaceChildren(...kids.flat(9).filter(k => k != null && k !== false)); }
  function note(text, err) { return h('p', {class: 'note' + (err ? ' err' : ''), role: err ? 'alert' : 'status'}, text); }
  let flashTimer;
  function flash(text) {
    const f = $('#flash');
    f.textContent = text; f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { f.hidden = true; }, 4000);
  }
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  // ---- API -----------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || 'HTTP ' + status);
      this.status = status; this.code = e.code || ''; this.param = e.param || '';
    }
  }
  const session = {user: '', token: '', demo: false};

  // api calls the JSON API; it throws ApiError for a non-2xx answer and
  // lets AbortError through. Tokens go in the Authorization header only.
  async function api(path, opt = {}) {
    const headers = {Accept: 'application/json'};
    if (session.token && opt.auth !== false) headers.Authorization = 'Bearer ' + session.token;
    if (opt.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opt.idem) headers['Idempotency-Key'] = opt.idem;
    const res = await fetch(path, {method: opt.method || 'GET', headers, signal: opt.signal,
      body: opt.body === undefined ? undefined : JSON.stringify(opt.body)});
    let data = null;
    const text = await res.text();
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }
  // explain turns an API failure into a sentence for the shopper.
  function explain(e, what) {
    if (e && e.status === 501) return what + ': not available on this server yet.';
    if (e && e.status === 503) return what + ': still loading; try again in a moment.';
    if (e && e.status === 401) return what + ': you need to be signed in.';
    if (e && e.status === 404) return what + ': not found.';
    if (e instanceof ApiError) return what + ': ' + e.message;
    return what + ' could not be reached.';
  }
  // settle runs a promise and returns [value, error] without throwing.
  const settle = p => p.then(v => [v, null], e => [null, e]);

  async function signIn() {
    const saved = sessionStorage.getItem('aisle.session');
    if (saved) {
      try { Object.assign(session, JSON.parse(saved)); } catch (_) { sessionStorage.removeItem('aisle.session'); }
    }
    if (!session.token) {
      let [s] = await settle(api('/api/v1/session/demo', {method: 'POST', auth: false}));
      if (s && s.user_token) session.demo = true;
      else [s] = await settle(api('/api/v1/guest', {method: 'POST', auth: false}));
      if (s && s.user_token) {
        session.user = s.user_id; session.token = s.user_token;
        sessionStorage.setItem('aisle.session', JSON.stringify(session));
      }
    }
    $('#who').textContent = session.token ? (session.demo ? 'Signed in as ' + session.user : 'Guest') : 'Not signed in';
  }

  // ---- cart state ----------------------------------------------------
  function setCount(n) { $('#cart-count').textContent = String(n || 0); }
  async function refreshCount() {
    if (!session.token) return;
    const [c] = await settle(api('/api/v1/cart/' + encodeURIComponent(session.user)));
    if (c) setCount(c.count);
  }
  async function addToCart(variantId, qty) {
    if (!session.token) throw new ApiError(401, {error: {message: 'no session'}});
    const c = await api('/api/v1/cart/' + encodeURIComponent(session.user) + '/items',
      {method: 'POST', body: {variant_id: variantId, quantity: qty || 1}});
    setCount(c && c.count);
    return c;
  }

  // ---- autocomplete --------------------------------------------------
  const q = $('#q'), list = $('#suggest');
  let sugTimer = 0, sugCtl = null, sugActive = -1;
  function closeSuggest() { list.hidden = true; q.setAttribute('aria-expanded', 'false'); q.removeAttribute('aria-activedescendant'); sugActive = -1; }
  function showSuggest(items) {
    put(list, ...items.map((s, i) => h('li', {id: 'sug-' + i, role: 'option', 'aria-selected': 'false',
      onmousedown: ev => { ev.preventDefault(); go(s.text); }},
      s.text, s.category ? h('small', {}, s.category.split('/').pop().replace(/-/g, ' ')) : null)));
    sugActive = -1;
    list.hidden = items.length === 0;
    q.setAttribute('aria-expanded', String(items.length > 0));
  }
  function moveSuggest(d) {
    const opts = list.querySelectorAll('li');
    if (!opts.length) return;
    sugActive += d; // -1 is the text as typed
    if (sugActive >= opts.length) sugActive = -1;
    if (sugActive < -1) sugActive = opts.length - 1;
    opts.forEach((o, i) => o.setAttribute('aria-selected', String(i === sugActive)));
    if (sugActive >= 0) { q.setAttribute('aria-activedescendant', opts[sugActive].id); q.value = opts[sugActive].firstChild.textContent; }
  }
  q.addEventListener('input', () => {
    clearTimeout(sugTimer);
    const text = q.value;
    if (!text.trim()) { if (sugCtl) sugCtl.abort(); closeSuggest(); return; }
    sugTimer = setTimeout(async () => {
      if (sugCtl) sugCtl.abort(); // a newer keystroke supersedes the request in flight
      sugCtl = new AbortController();
      const [r, e] = await settle(api('/api/v1/suggest?limit=8&q=' + encodeURIComponent(text), {signal: sugCtl.signal, auth: false}));
      if (e || q.value !== text || document.activeElement !== q) return;
      showSuggest(r.suggestions || []);
    }, 150);
  });
  q.addEventListener('keydown', ev => {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); if (list.hidden) q.dispatchEvent(new Event('input')); else moveSuggest(1); }
    else if (ev.key === 'ArrowUp') { ev.preventDefault(); moveSuggest(-1); }
    else if (ev.key === 'Escape') closeSuggest();
  });
  q.addEventListener('blur', () => setTimeout(closeSuggest, 100));
  $('#search-form').addEventListener('submit', ev => { ev.preventDefault(); go(q.value); });
  function go(text) {
    clearTimeout(sugTimer);
    if (sugCtl) sugCtl.abort();
    closeSuggest();
    q.value = text;
    location.hash = '#/search?' + new URLSearchParams({q: text.trim()});
  }

  // ---- search page ---------------------------------------------------
  const searchKeys = /^(q|category|brand|price_min|price_max|rating_min|in_stock|sort|page|attr\.[\w-]+)$/;
  let searchCtl = null, focusAfter = null;

  async function searchPage(params) {
    const p = new URLSearchParams();
    for (const [k, v] of params) if (searchKeys.test(k) && v !== '') p.append(k, v);
    q.value = p.get('q') || '';
    document.title = (p.get('q') || 'Search') + ' – Aisle';
    if (searchCtl) searchCtl.abort();
    searchCtl = new AbortController();
    const [r, e] = await settle(api('/api/v1/products/search?' + p, {signal: searchCtl.signal, auth: false}));
    if (e && e.name === 'AbortError') return;
    if (e) { put(main, note(explain(e, 'Search'), true)); return; }
    // nav returns the link of this search changed by mut; a new filter
    // goes back to page 1.
    const nav = (mut, keepPage) => { const n = new URLSearchParams(p); if (!keepPage) n.delete('page'); mut(n); return '#/search?' + n; };
    const set = (k, v) => nav(n => { if (v === '' || v == null) n.delete(k); else n.set(k, v); });
    const multi = (k, v, on) => nav(n => {
      const vals = (n.get(k) || '').split(',').filter(x => x && x.toLowerCase() !== v.toLowerCase());
      if (on) vals.push(v);
      if (vals.length) n.set(k, vals.join(',')); else n.delete(k);
    });
    const has = (k, v) => (p.get(k) || '').split(',').some(x => x.toLowerCase() === String(v).toLowerCase());

    // The corrections and the understood filters.
    const head = [];
    if (r.corrected_from && r.did_you_mean) {
      head.push(h('p', {class: 'dym'}, 'Showing results for ', h('a', {href: set('q', r.did_you_mean)}, h('b', {}, r.did_you_mean)),
        '. You searched for ', h('i', {}, r.corrected_from), '.'));
    } else if (r.did_you_mean) {
      head.push(h('p', {class: 'dym'}, 'Did you mean ', h('a', {href: set('q', r.did_you_mean)}, h('b', {}, r.did_you_mean)), '?'));
    }
    if (r.relaxed) head.push(note('No product matched every word; showing the closest matches.'));
    const chips = [];
    const u = r.understood || {};
    const qtext = p.get('q') || '';
    const dropFromQ = (re, fallback) => {
      const nq = qtext.replace(re, ' ').replace(/\s+/g, ' ').trim();
      if (nq !== qtext.trim()) return set('q', nq);
      return fallback;
    };
    const num = v => String(v).replace('.', '\\.');
    const priceWords = '(?:under|below|less than|cheaper than|up to|max(?:imum)?|over|above|more than|at least|min(?:imum)?|from|between|and|to)';
    const priceRe = v => new RegExp('(?:\\b' + priceWords + '\\s+)?\\$?' + num(v) + '(?:\\.\\d+)?\\s*(?:\\$|dollars?|usd)?(?=\\s|$)', 'i');
    if (u.price_min != null && !p.has('price_min')) chips.push(['Price from ' + u.price_min + ' (understood)', dropFromQ(priceRe(u.price_min), set('price_min', '0'))]);
    if (u.price_max != null && !p.has('price_max')) chips.push(['Price up to ' + u.price_max + ' (understood)', dropFromQ(priceRe(u.price_max), set('price_max', '99999999'))]);
    if (u.rating_min != null && !p.has('rating_min')) chips.push([u.rating_min + '+ stars (understood)',
      dropFromQ(new RegExp('(?:rated\\s+)?' + num(u.rating_min) + '\\s*\\+?\\s*stars?(?:\\s+(?:and|&)\\s+(?:up|above))?', 'i'), set('rating_min', '0'))]);
    for (const b of u.brand || []) chips.push(['Brand: ' + b + ' (understood)', dropFromQ(new RegExp('\\b' + b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\b', 'i'), null)]);
    for (const c of u.color || []) chips.push(['Colour: ' + c + ' (understood)', dropFromQ(new RegExp('\\b' + c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\b', 'i'), null)]);
    for (const z of u.size || []) chips.push(['Size: ' + z + ' (understood)', dropFromQ(new RegExp('(?:\\bsize\\s+)?\\b' + z.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\b', 'i'), null)]);
    for (const b of (p.get('brand') || '').split(',').filter(Boolean)) chips.push(['Brand: ' + b, multi('brand', b, false)]);
    if (p.get('category')) chips.push(['Category: ' + p.get('category'), set('category', '')]);
    if (p.get('price_min') && p.get('price_min') !== '0') chips.push(['Price from ' + p.get('price_min'), set('price_min', '')]);
    if (p.get('price_max') && p.get('price_max') !== '99999999') chips.push(['Price up to ' + p.get('price_max'), set('price_max', '')]);
    if (p.get('rating_min') && p.get('rating_min') !== '0') chips.push([p.get('rating_min') + '+ stars', set('rating_min', '')]);
    if (p.get('in_stock')) chips.push(['In stock only', set('in_stock', '')]);
    for (const [k, v] of p) if (k.startsWith('attr.')) for (const x of v.split(',')) chips.push([k.slice(5) + ': ' + x, multi(k, x, false)]);
    if (chips.length) head.push(h('div', {class: 'chips', 'aria-label': 'Filters'}, chips.map(([label, href]) =>
      h('span', {class: 'chip'}, label, href ? h('button', {type: 'button', 'aria-label': 'Remove ' + label, onclick: () => { location.hash = href; }}, '×') : null))));

    // Results.
    let body;
    if (r.total === 0) {
      const rel = (r.filter_relaxations || []).map(f => h('li', {}, h('a', {href: f.param === 'brand' ? multi('brand', f.value, false) : set(f.param, '')},
        'Remove ' + f.param.replace('_', ' ') + (f.value ? ' ' + f.value : '')), ' (' + f.total + ' results)'));
      body = [note('No products match.' + (rel.length ? ' Dropping one filter would help:' : '')), rel.length ? h('ul', {class: 'relax'}, rel) : null];
    } else {
      body = [h('div', {class: 'grid', id: 'results'}, r.results.map(card))];
      const pages = Math.min(Math.ceil(r.total / r.page_size), Math.floor(10000 / r.page_size));
      if (pages > 1) {
        const link = (n, label) => n === r.page ? h('span', {'aria-current': 'page'}, label) : h('a', {href: nav(x => x.set('page', n), true)}, label);
        const nums = [];
        for (let n = Math.max(1, r.page - 2); n <= Math.min(pages, r.page + 2); n++) nums.push(link(n, String(n)));
        body.push(h('nav', {class: 'pager', 'aria-label': 'Pages'}, r.page > 1 ? link(r.page - 1, '‹ Previous') : null, nums, r.page < pages ? link(r.page + 1, 'Next ›') : null));
      }
    }
    const sort = h('select', {id: 'sort', 'aria-label': 'Sort by', onchange: ev => { location.hash = set('sort', ev.target.value === 'relevance' ? '' : ev.target.value); }},
      [['relevance', 'Relevance'], ['price_asc', 'Price: low to high'], ['price_desc', 'Price: high to low'], ['rating', 'Rating'], ['newest', 'Newest']]
        .map(([v, l]) => h('option', {value: v, selected: (p.get('sort') || 'relevance') === v}, l)));
    put(main, h('div', {class: 'serp'},
      facetsEl(r.facets, p, {nav, set, multi, has, approx: r.facets_exact === false}),
      h('div', {}, head, h('div', {class: 'bar'}, h('span', {id: 'total', role: 'status'}, r.total.toLocaleString('en-US') + ' results'), h('label', {}, 'Sort ', sort)), body)));
    const f = focusAfter && main.querySelector(focusAfter);
    focusAfter = null;
    if (f) f.focus();
  }

  function facetsEl(f, p, {nav, set, multi, has, approx}) {
    if (!f) return h('aside', {class: 'facets'});
    // Counts estimated from a sample (facets_exact false) read "≈1,200".
    const cnt = c => h('span', {class: 'n'}, '(' + (approx ? '≈' : '') + c + ')');
    // On a phone the filters start folded, so the results show first.
    const wide = matchMedia('(min-width: 761px)').matches;
    const box = (title, items) => items.length ? h('details', {open: wide}, h('summary', {}, h('h3', {style: 'display:inline'}, title)), h('ul', {}, items)) : null;
    // A ticked box keeps the keyboard focus across the new results.
    const check = (label, count, on, href, name) => h('li', {}, h('label', {},
      h('input', {type: 'checkbox', checked: on, name, value: label, onchange: () => {
        focusAfter = '.facets input[name="' + CSS.escape(name) + '"][value="' + CSS.escape(label) + '"]'; location.hash = href;
      }}), ' ', label, ' ', cnt(count)));
    const brands = (f.brand || []).map(b => check(b.value, b.count, has('brand', b.value), multi('brand', b.value, !has('brand', b.value)), 'brand'));
    const cats = (f.category || []).filter(c => c.level <= 2).slice(0, 12).map(c => h('li', {style: 'padding-left:' + c.level + 'em'},
      p.get('category') === c.slug ? h('b', {}, c.name) : h('a', {href: set('category', c.slug)}, c.name), ' ', cnt(c.count)));
    const prices = (f.price || []).map(b => {
      const on = String(b.from) === p.get('price_min') && String(b.to == null ? '' : b.to) === (p.get('price_max') || '');
      const label = b.to == null ? money({amount: b.from}) + ' and up' : money({amount: b.from}) + ' – ' + money({amount: b.to});
      const href = nav(n => { n.set('price_min', b.from); if (b.to == null) n.delete('price_max'); else n.set('price_max', b.to); });
      return h('li', {}, on ? h('b', {}, label) : h('a', {href}, label), ' ', cnt(b.count));
    });
    const range = h('form', {class: 'range', onsubmit: ev => {
      ev.preventDefault();
      const n = new URLSearchParams(p); n.delete('page');
      for (const k of ['price_min', 'price_max']) { const v = ev.target.elements[k].value.trim(); if (v) n.set(k, v); else n.delete(k); }
      location.hash = '#/search?' + n;
    }}, h('input', {name: 'price_min', inputmode: 'decimal', 'aria-label': 'Minimum price', placeholder: 'min', value: p.get('price_min') || ''}),
    '–', h('input', {name: 'price_max', inputmode: 'decimal', 'aria-label': 'Maximum price', placeholder: 'max', value: p.get('price_max') || ''}),
    h('button', {type: 'submit', class: 'sec'}, 'Go'));
    const ratings = (f.rating || []).map(b => h('li', {}, p.get('rating_min') === String(b.from) ? h('b', {}, b.from + '★ & up') :
      h('a', {href: set('rating_min', String(b.from))}, b.from + '★ & up'), ' ', cnt(b.count)));
    const attrs = (f.attributes || []).slice(0, 3).map(a => box(a.name.replace(/_/g, ' '), a.values.slice(0, 10).map(v =>
      check(v.value, v.count, has('attr.' + a.name, v.value), multi('attr.' + a.name, v.value, !has('attr.' + a.name, v.value)), 'attr.' + a.name))));
    return h('aside', {class: 'facets', 'aria-label': 'Filters'},
      box('Brand', brands), box('Category', cats),
      h('details', {open: wide}, h('summary', {}, h('h3', {style: 'display:inline'}, 'Price')), h('ul', {}, prices), range),
      box('Rating', ratings), attrs,
      h('h3', {}, 'Availability'), h('label', {}, h('input', {type: 'checkbox', checked: p.get('in_stock') === 'true', onchange: ev => { location.hash = set('in_stock', ev.target.checked ? 'true' : ''); }}), ' In stock only'));
  }

  function card(r) {
    const href = '#/product/' + encodeURIComponent(r.product_id);
    const image = r.thumbnail_url || r.image;
    return h('article', {class: 'card', 'data-id': r.product_id},
      r.sponsored ? h('span', {class: 'spons'}, 'Sponsored') : null,
      h('a', {href, tabindex: '-1', 'aria-hidden': 'true'}, img(image, r.title)),
      h('a', {class: 't', href}, r.title),
      r.brand ? h('span', {class: 'mut'}, r.brand) : null,
      priceEl(r.price),
      r.rating ? stars(r.rating.avg, r.rating.count) : null,
      h('span', {}, r.in_stock !== undefined ? stockEl(r.in_stock) : null, (r.badges || []).map(b => h('span', {class: 'badge'}, b))));
  }

  // ---- product page --------------------------------------------------
  async function productPage(id) {
    const [p, e] = await settle(api('/api/v1/products/' + encodeURIComponent(id), {auth: false}));
    if (e) { put(main, note(explain(e, 'This product'), true)); return; }
    document.title = p.title + ' – Aisle';
    const images = p.images && p.images.length ? p.images : (p.thumbnail_url ? [p.thumbnail_url] : []);
    let mainImg = img(images[0], p.title, 'img main');
    const thumbs = images.length > 1 ? h('div', {class: 'thumbs'}, images.map((src, i) => h('button', {type: 'button', class: 'sec', 'aria-label': 'Image ' + (i + 1), 'aria-pressed': String(i === 0),
      onclick: ev => { const n = img(src, p.title, 'img main'); mainImg.replaceWith(n); mainImg = n; ev.currentTarget.parentNode.querySelectorAll('button').forEach(b => b.setAttribute('aria-pressed', String(b === ev.currentTarget))); }},
    img(src, p.title, 'x')))) : null;

    // Variants: choosing one changes the price and the stock shown.
    const variants = p.variants || [];
    let chosen = variants.find(v => v.stock_status !== 'OUT_OF_STOCK') || variants[0];
    const priceBox = h('div', {id: 'price'}), stockBox = h('div', {id: 'stock'});
    const addBtn = h('button', {type: 'button', id: 'add'}, 'Add to cart');
    const qty = h('input', {type: 'number', min: '1', max: '99', value: '1', 'aria-label': 'Quantity'});
    const showVariant = () => {
      put(priceBox, priceEl(chosen ? chosen.price : p.price));
      put(stockBox, stockEl(chosen ? chosen.stock_status : p.stock_status, chosen ? chosen.quantity_hint : p.quantity_hint));
      addBtn.disabled = !chosen || chosen.stock_status === 'OUT_OF_STOCK';
    };
    const label = v => {
      const a = Object.entries(v.attributes || {}).filter(([k]) => !/^(ean|mpn|upc|gtin|sku)$/i.test(k)).map(([, x]) => x);
      return a.length ? a.join(' / ') : v.sku || v.variant_id;
    };
    const varEl = variants.length > 1 ? h('fieldset', {class: 'variants'}, h('legend', {}, 'Options'), variants.map(v =>
      h('label', {}, h('input', {type: 'radio', name: 'variant', value: v.variant_id, checked: v === chosen, class: 'sr',
        onchange: () => { chosen = v; showVariant(); }}), h('span', {}, label(v), ' · ', money(v.price))))) : null;
    showVariant();
    addBtn.addEventListener('click', async () => {
      addBtn.disabled = true;
      const [, err] = await settle(addToCart(chosen.variant_id, Math.max(1, parseInt(qty.value, 10) || 1)));
      addBtn.disabled = false;
      flash(err ? explain(err, 'The cart') : 'Added to your cart.');
    });
    const rs = p.reviews_summary || {};
    const specs = Object.entries(p.attributes || {}).slice(0, 14);
    const sec = (id, title) => h('section', {id, 'aria-label': title}, h('h2', {}, title), h('p', {class: 'mut'}, 'Loading…'));
    const bundleSec = sec('bundle', 'Frequently bought together'), alsoSec = sec('also', 'Customers who also bought'),
      simSec = sec('similar', 'Similar items'), revSec = sec('reviews', 'Reviews');
    put(main, h('nav', {class: 'mut', 'aria-label': 'Breadcrumb'}, (p.category_path || []).join(' › ')),
      h('div', {class: 'prod'},
        h('div', {class: 'gallery'}, mainImg, thumbs),
        h('div', {},
          h('h1', {id: 'title'}, p.title),
          p.brand ? h('p', {class: 'mut'}, 'by ', h('a', {href: '#/search?' + new URLSearchParams({q: '', brand: p.brand})}, p.brand)) : null,
          h('p', {}, stars(rs.avg, rs.count), ' ', h('a', {href: '#reviews', onclick: ev => { ev.preventDefault(); revSec.scrollIntoView(); }}, 'reviews')),
          priceBox, stockBox, varEl,
          h('div', {class: 'buy'}, qty, addBtn),
          p.seller ? h('p', {class: 'mut', id: 'seller'}, 'Sold by ', h('b', {}, p.seller.id), p.seller.quality != null ? ' · seller rating ' + Math.round(p.seller.quality * 100) + '%' : '') : null,
          (p.badges || []).map(b => h('span', {class: 'badge'}, b)),
          p.description ? h('p', {}, p.description) : null,
          specs.length ? h('table', {class: 'specs'}, h('tbody', {}, specs.map(([k, v]) => h('tr', {}, h('th', {scope: 'row'}, k.replace(/_/g, ' ')), h('td', {}, v))))) : null)),
      bundleSec, alsoSec, simSec, revSec);
    bundle(p, bundleSec);
    recRow(p.product_id, 'also-bought', alsoSec);
    recRow(p.product_id, 'similar', simSec);
    reviews(p.product_id, revSec, 'helpful');
  }

  const details = new Map(); // product id -> promise of its page JSON
  function detail(id) {
    if (!details.has(id)) {
      details.set(id, api('/api/v1/products/' + encodeURIComponent(id), {auth: false}).catch(e => { details.delete(id); throw e; }));
      if (details.size > 200) details.delete(details.keys().next().value);
    }
    return details.get(id);
  }

  async function bundle(p, sec) {
    const [r, e] = await settle(api('/api/v1/products/' + encodeURIComponent(p.product_id) + '/bought-together', {auth: false}));
    const h2 = sec.firstChild;
    if (e) { put(sec, h2, h('p', {class: 'mut'}, explain(e, 'Bought-together recommendations'))); return; }
    const b = (r.bundles || [])[0];
    if (!b) { sec.remove(); return; }
    const prods = await Promise.all(b.product_ids.map(id => id === p.product_id ? p : settle(detail(id)).then(([d]) => d)));
    const ok = prods.filter(Boolean);
    const btn = h('button', {type: 'button', id: 'add-bundle'}, 'Add all ' + ok.length + ' to cart');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      let err = null;
      for (const d of ok) {
        const v = (d.variants || []).find(x => x.stock_status !== 'OUT_OF_STOCK') || (d.variants || [])[0];
        if (!v) continue;
        [, err] = await settle(addToCart(v.variant_id, 1));
        if (err) break;
      }
      btn.disabled = false;
      flash(err ? explain(err, 'The cart') : 'Added ' + ok.length + ' items to your cart.');
      if (!err) btn.textContent = 'Added ✓';
    });
    const items = [];
    ok.forEach((d, i) => {
      if (i) items.push(h('span', {class: 'plus', 'aria-hidden': 'true'}, '+'));
      items.push(card({product_id: d.product_id, title: d.title, thumbnail_url: d.thumbnail_url || (d.images || [])[0], price: d.price,
        rating: d.reviews_summary, in_stock: d.in_stock}));
    });
    put(sec, h2, h('div', {class: 'bundle'}, items,
      h('div', {}, h('p', {}, 'Bundle price: ', h('b', {id: 'bundle-price'}, money(b.price))), btn)));
  }

  async function recRow(id, kind, sec, tries = 0) {
    const [r, e] = await settle(api('/api/v1/products/' + encodeURIComponent(id) + '/' + kind + '?limit=8', {auth: false}));
    const h2 = sec.firstChild;
    if (e) {
      put(sec, h2, h('p', {class: 'mut'}, explain(e, 'These recommendations')));
      // Still being built (503): ask again while the shopper stays.
      if (e.status === 503 && tries < 20) setTimeout(() => { if (sec.isConnected) recRow(id, kind, sec, tries + 1); }, 3000);
      return;
    }
    if (!r.items || !r.items.length) { sec.remove(); return; }
    // Say where a fallback's items come from ("best seller in Laptops").
    const why = [...new Set(r.items.map(it => it.reason).filter(x => x && !x.startsWith('bought with') && !x.startsWith('bought by') && x !== 'similar item'))];
    const whyEl = why.length ? h('p', {class: 'mut why'}, why.slice(0, 2).join('; ')) : null;
    // The lists carry no image: fetch the first few products' pages.
    const ds = await Promise.all(r.items.slice(0, 6).map(it => settle(detail(it.product_id)).then(([d]) => d)));
    put(sec, h2, whyEl, h('div', {class: 'row'}, r.items.map((it, i) => card({product_id: it.product_id, title: it.title, price: it.price,
      thumbnail_url: ds[i] && (ds[i].thumbnail_url || (ds[i].images || [])[0]), rating: ds[i] && ds[i].reviews_summary}))));
  }

  async function reviews(id, sec, sort) {
    const [r, e] = await settle(api('/api/v1/products/' + encodeURIComponent(id) + '/reviews?limit=5&sort=' + sort, {auth: false}));
    const h2 = sec.firstChild;
    if (e) { put(sec, h2, h('p', {class: 'mut'}, explain(e, 'Reviews'))); return; }
    const s = r.summary || {};
    const dist = s.distribution || [0, 0, 0, 0, 0];
    const max = Math.max(1, ...dist);
    const sortSel = h('select', {'aria-label': 'Sort reviews', onchange: ev => reviews(id, sec, ev.target.value)},
      [['helpful', 'Most helpful'], ['recent', 'Most recent'], ['rating', 'Highest rating']].map(([v, l]) => h('option', {value: v, selected: v === sort}, l)));
    put(sec, h2,
      h('p', {}, stars(s.avg, s.count), ' ', (s.avg || 0).toFixed(1) + ' out of 5'),
      h('div', {class: 'dist', 'aria-label': 'Rating distribution'}, [5, 4, 3, 2, 1].map(n => [h('span', {}, n + ' star'),
        h('span', {class: 'b'}, h('i', {style: 'width:' + Math.round(100 * dist[n - 1] / max) + '%'})), h('span', {class: 'mut'}, String(dist[n - 1]))])),
      (r.reviews || []).length ? h('p', {}, h('label', {}, 'Sort ', sortSel)) : h('p', {class: 'mut'}, 'No reviews yet.'),
      (r.reviews || []).map(v => {
        const vote = h('button', {type: 'button', class: 'sec'}, 'Helpful (' + (v.helpful || 0) + ')');
        vote.addEventListener('click', async () => {
          vote.disabled = true;
          const [x, err] = await settle(api('/api/v1/products/' + encodeURIComponent(id) + '/reviews/' + encodeURIComponent(v.review_id) + '/helpful', {method: 'POST', body: {}}));
          if (err) { vote.disabled = false; flash(explain(err, 'Voting')); return; }
          vote.textContent = 'Helpful (' + x.helpful + ')' + (x.counted ? ' · thanks!' : ' · already counted');
        });
        return h('article', {class: 'review', 'data-review': v.review_id}, stars(v.rating), h('h3', {}, v.title || ''),
          h('p', {class: 'mut'}, v.user_id, ' · ', (v.created_at || '').slice(0, 10), v.verified ? h('span', {class: 'verified'}, ' ✔ Verified purchase') : null),
          h('p', {}, v.body || ''), vote);
      }));
    sec.dataset.sort = sort; // rendered in this order
  }

  // ---- cart ----------------------------------------------------------
  async function cartPage() {
    document.title = 'Cart – Aisle';
    if (!session.token) { put(main, h('h1', {}, 'Your cart'), note('The cart needs a session, and this server gave none.', true)); return; }
    const base = '/api/v1/cart/' + encodeURIComponent(session.user);
    const [c, e] = await settle(api(base));
    if (e) { put(main, h('h1', {}, 'Your cart'), note(explain(e, 'The cart'), true)); return; }
    setCount(c.count);
    const change = async (method, v, body) => {
      const [, err] = await settle(api(base + '/items/' + encodeURIComponent(v), {method, body}));
      if (err) flash(explain(err, 'The cart'));
      cartPage();
    };
    if (!c.items || !c.items.length) { put(main, h('h1', {}, 'Your cart'), h('p', {}, 'Your cart is empty. ', h('a', {href: '#/'}, 'Keep shopping'))); return; }
    put(main, h('h1', {}, 'Your cart'),
      h('table', {class: 'lines', id: 'cart'}, h('thead', {}, h('tr', {}, h('th', {}, 'Item'), h('th', {}, 'Price'), h('th', {}, 'Quantity'), h('th', {}, h('span', {class: 'sr'}, 'Remove')))),
        h('tbody', {}, c.items.map(it => h('tr', {'data-variant': it.variant_id},
          h('td', {}, it.available === false ? h('span', {class: 'muted'}, (it.title || it.variant_id) + ' (no longer available)') : h('a', {href: '#/product/' + encodeURIComponent(it.product_id)}, it.title || it.product_id), it.available !== false && it.in_stock === false ? [' ', stockEl(false)] : null),
          h('td', {}, priceEl(it.price)),
          h('td', {}, h('input', {type: 'number', min: '0', max: '99', value: String(it.quantity), 'aria-label': 'Quantity of ' + (it.title || it.variant_id),
            onchange: ev => change('PUT', it.variant_id, {quantity: Math.max(0, parseInt(ev.target.value, 10) || 0)})})),
          h('td', {}, h('button', {type: 'button', class: 'link', onclick: () => change('DELETE', it.variant_id)}, 'Remove')))))),
      h('p', {}, 'Subtotal (' + c.count + ' items): ', h('b', {id: 'subtotal'}, money(c.subtotal))),
      h('button', {type: 'button', id: 'checkout', onclick: () => { sessionStorage.removeItem('aisle.checkout'); sessionStorage.setItem('aisle.checkoutKey', newKey()); location.hash = '#/checkout'; }}, 'Check out'));
  }

  // ---- checkout ------------------------------------------------------
  // Each step keeps its Idempotency-Key until it succeeds, so a retry
  // after a lost answer never repeats the effect.
  const stepKeys = {};
  function keyFor(step, body) {
    const k = step + JSON.stringify(body || {});
    return (stepKeys[k] = stepKeys[k] || newKey());
  }
  async function checkoutPage() {
    document.title = 'Checkout – Aisle';
    if (!session.token) { put(main, h('h1', {}, 'Checkout'), note('Checkout needs a session, and this server gave none.', true)); return; }
    let id = sessionStorage.getItem('aisle.checkout'), s, e;
    if (id) [s, e] = await settle(api('/api/v1/checkout/' + encodeURIComponent(id)));
    if (!s || s.status === 'placed') {
      // One key per press of "Check out", kept across reloads until it works.
      let key = sessionStorage.getItem('aisle.checkoutKey');
      if (!key) { key = newKey(); sessionStorage.setItem('aisle.checkoutKey', key); }
      [s, e] = await settle(api('/api/v1/checkout', {method: 'POST', body: {}, idem: key}));
      if (e) { put(main, h('h1', {}, 'Checkout'), note(explain(e, 'Checkout'), true)); return; }
      sessionStorage.setItem('aisle.checkout', s.checkout_id);
      sessionStorage.removeItem('aisle.checkoutKey');
    }
    renderCheckout(s);
  }
  function renderCheckout(s, problem) {
    const path = '/api/v1/checkout/' + encodeURIComponent(s.checkout_id);
    const order = ['address', 'shipping', 'payment', 'confirm'];
    const at = order.indexOf(s.status);
    const msg = h('div', {role: 'alert'}, problem ? note(problem, true) : null);
    const step = async (name, method, url, body) => {
      put(msg);
      const [r, e] = await settle(api(url, {method, body, idem: keyFor(s.checkout_id + name, body)}));
      if (e) {
        const why = e.code === 'payment_declined' ? 'Your card was declined; try another card.' :
          e.code === 'insufficient_stock' ? 'Not enough stock left for ' + (((s.lines || []).find(l => l.variant_id === e.param) || {}).title || e.param || 'an item') + '; change your cart.' : explain(e, 'This step');
        if (e.code === 'payment_declined') { // the session is back at the payment step
          const [s2] = await settle(api(path));
          if (s2) { renderCheckout(s2, why); return; }
        }
        put(msg, note(why, true));
        return;
      }
      if (name === 'confirm') {
        sessionStorage.removeItem('aisle.checkout');
        setCount(0);
        location.hash = '#/orders/' + encodeURIComponent(r.order_id);
        return;
      }
      renderCheckout(r);
    };
    const form = (fields, submit, onsubmit) => h('form', {class: 'f', id: 'step-' + s.status, onsubmit: ev => { ev.preventDefault(); onsubmit(ev.target.elements); }},
      fields.map(([name, label, value, attrs]) => h('label', {}, label, h('input', Object.assign({name, value: value == null ? '' : String(value), required: true}, attrs || {})))),
      h('button', {type: 'submit'}, submit));
    let stepEl;
    if (s.status === 'address') {
      const a = s.address || {name: 'Demo Shopper', line1: '1 Market Street', city: 'San Francisco', postal_code: '94105', country: 'US', lat: 37.79, lon: -122.39};
      stepEl = form([['name', 'Name', a.name], ['line1', 'Address', a.line1], ['city', 'City', a.city], ['postal_code', 'Postal code', a.postal_code],
        ['country', 'Country (2 letters)', a.country, {maxlength: '2'}], ['lat', 'Latitude', a.lat, {inputmode: 'decimal'}], ['lon', 'Longitude', a.lon, {inputmode: 'decimal'}]],
      'Continue to shipping', el => step('address', 'PUT', path + '/address', {name: el.name.value, line1: el.line1.value, city: el.city.value,
        postal_code: el.postal_code.value, country: el.country.value.toUpperCase(), lat: parseFloat(el.lat.value), lon: parseFloat(el.lon.value)}));
    } else if (s.status === 'shipping') {
      const opts = s.shipping_options || [];
      stepEl = h('form', {class: 'f', id: 'step-shipping', onsubmit: ev => { ev.preventDefault(); const v = ev.target.elements.option.value; step('shipping', 'PUT', path + '/shipping', {option: v}); }},
        h('fieldset', {}, h('legend', {}, 'Delivery'), opts.map((o, i) => h('label', {}, h('input', {type: 'radio', name: 'option', value: o.option, checked: i === 0}),
          ' ' + o.option + ' · ' + money(o.price) + (o.days ? ' · ' + o.days + ' days' : '')))),
        h('button', {type: 'submit'}, 'Continue to payment'));
    } else if (s.status === 'payment') {
      stepEl = [form([['card_number', 'Card number (sandbox: 4242 4242 4242 4242)', '4242424242424242', {inputmode: 'numeric', autocomplete: 'off'}],
        ['exp_month', 'Expiry month', 12, {inputmode: 'numeric'}], ['exp_year', 'Expiry year', new Date().getFullYear() + 2, {inputmode: 'numeric'}], ['cvc', 'CVC', '123', {inputmode: 'numeric', autocomplete: 'off'}]],
      'Review order', el => step('payment', 'PUT', path + '/payment', {card_number: el.card_number.value.replace(/\s/g, ''),
        exp_month: parseInt(el.exp_month.value, 10), exp_year: parseInt(el.exp_year.value, 10), cvc: el.cvc.value}))];
    } else if (s.status === 'confirm') {
      stepEl = h('div', {}, s.payment && s.payment.last4 ? h('p', {}, 'Paying with the card ending ' + s.payment.last4) : null,
        h('button', {type: 'button', id: 'place-order', onclick: () => step('confirm', 'POST', path + '/confirm', {})}, 'Place order'));
    } else {
      stepEl = note('This checkout is ' + s.status + '.');
    }
    put(main, h('h1', {}, 'Checkout'),
      h('ol', {class: 'steps', 'aria-label': 'Checkout steps'}, order.map((n, i) => h('li', {class: i < at ? 'done' : '', 'aria-current': i === at ? 'step' : null}, n))),
      h('table', {class: 'lines'}, h('tbody', {}, (s.lines || []).map(l => h('tr', {}, h('td', {}, l.title || l.product_id), h('td', {class: 'r'}, '× ' + l.quantity), h('td', {class: 'r'}, money(l.price)))),
        h('tr', {}, h('th', {colspan: '2'}, 'Subtotal'), h('td', {class: 'r'}, money(s.subtotal))),
        s.shipping ? h('tr', {}, h('th', {colspan: '2'}, 'Shipping (' + (s.shipping.option || '') + ')'), h('td', {class: 'r'}, money(s.shipping.price || s.shipping))) : null,
        s.total ? h('tr', {}, h('th', {colspan: '2'}, 'Total'), h('td', {class: 'r'}, h('b', {}, money(s.total)))) : null)),
      msg, stepEl);
    const first = main.querySelector('form input, #place-order');
    if (first) first.focus();
  }

  // ---- orders --------------------------------------------------------
  async function orderPage(id, tries = 0) {
    document.title = 'Order – Aisle';
    const [o, e] = await settle(api('/api/v1/orders/' + encodeURIComponent(id)));
    if (location.hash !== '#/orders/' + encodeURIComponent(id)) return; // the shopper moved on
    if (e) { put(main, h('h1', {}, 'Your order'), note(explain(e, 'The order'), true)); return; }
    const ships = o.shipments || [];
    const titles = {};
    for (const l of o.lines || []) titles[l.variant_id] = l.title;
    put(main, h('h1', {}, 'Thank you! Order ', h('span', {id: 'order-id'}, o.order_id)),
      h('p', {}, 'Status: ', h('b', {id: 'order-status'}, o.status), o.placed_at ? ' · placed ' + new Date(o.placed_at).toLocaleString('en-US') : '', ' · total ', h('b', {}, money(o.total))),
      h('table', {class: 'lines'}, h('tbody', {}, (o.lines || []).map(l => h('tr', {}, h('td', {}, l.title || l.product_id), h('td', {class: 'r'}, '× ' + l.quantity), h('td', {class: 'r'}, money(l.price)))))),
      h('h2', {}, 'Shipments'),
      ships.length ? h('div', {id: 'shipments'}, ships.map(sh => h('div', {class: 'ship'},
        h('b', {}, sh.warehouse_name || sh.warehouse_id), sh.distance_km != null ? ' · ' + Math.round(sh.distance_km) + ' km away' : '', ' · ', sh.status,
        h('ul', {}, (sh.lines || []).map(l => h('li', {}, l.quantity + ' × ', h('a', {href: '#/product/' + encodeURIComponent(l.product_id)}, titles[l.variant_id] || l.product_id))))))) :
        h('p', {class: 'mut', id: 'routing'}, 'Choosing the warehouses for your order…'));
    if (!ships.length && o.status === 'placed' && tries < 15) setTimeout(() => orderPage(id, tries + 1), 1000);
  }
  async function ordersPage() {
    document.title = 'Orders – Aisle';
    if (!session.token) { put(main, h('h1', {}, 'Your orders'), note('Orders need a session, and this server gave none.', true)); return; }
    const [r, e] = await settle(api('/api/v1/orders'));
    if (e) { put(main, h('h1', {}, 'Your orders'), note(explain(e, 'Orders'), true)); return; }
    const os = r.orders || [];
    put(main, h('h1', {}, 'Your orders'), os.length ? h('ul', {}, os.map(o => h('li', {},
      h('a', {href: '#/orders/' + encodeURIComponent(o.order_id)}, o.order_id), ' · ', o.status, ' · ', money(o.total)))) : h('p', {}, 'No orders yet.'));
  }

  // ---- home ----------------------------------------------------------
  async function homePage() {
    document.title = 'Aisle';
    q.value = '';
    const hero = h('section', {}, h('h1', {}, 'Welcome to Aisle'), h('p', {class: 'mut'}, 'Search the whole catalog above, or start with these.'));
    put(main, hero, h('p', {class: 'mut'}, 'Loading…'));
    const [r, e] = await settle(api('/api/v1/recs/home'));
    const rows = [];
    if (r && r.rows) {
      for (const row of r.rows) if (row.items && row.items.length) rows.push(h('section', {class: 'home-row', 'data-kind': row.kind}, h('h2', {}, row.title || row.kind),
        h('div', {class: 'row'}, row.items.map(it => card({product_id: it.product_id, title: it.title, thumbnail_url: it.image, price: it.price,
          rating: typeof it.rating === 'object' ? it.rating : it.rating != null ? {avg: it.rating} : null, in_stock: it.in_stock})))));
    }
    if (!rows.length) {
      if (e) rows.push(note(explain(e, 'Home page recommendations')));
      // A row of the best-rated products, from search, in their place.
      const [t] = await settle(api('/api/v1/products/search?sort=rating&in_stock=true&facets=false&page_size=12', {auth: false}));
      if (t && t.results.length) rows.push(h('section', {class: 'home-row', 'data-kind': 'top-rated'}, h('h2', {}, 'Top rated'), h('div', {class: 'row'}, t.results.map(card))));
    }
    if (location.hash.replace(/^#\/?/, '') === '') put(main, hero, rows);
  }

  // ---- router --------------------------------------------------------
  async function route() {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, query] = hash.split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    closeSuggest();
    try {
      if (parts[0] === 'search') await searchPage(new URLSearchParams(query || ''));
      else if (parts[0] === 'product' && parts[1]) await productPage(parts.slice(1).join('/'));
      else if (parts[0] === 'cart') await cartPage();
      else if (parts[0] === 'checkout') await checkoutPage();
      else if (parts[0] === 'orders' && parts[1]) await orderPage(parts[1]);
      else if (parts[0] === 'orders') await ordersPage();
      else if (!parts.length) await homePage();
      else put(main, note('No such page. ', true), h('a', {href: '#/'}, 'Go home'));
    } catch (e) {
      if (e && e.name === 'AbortError') return;
      put(main, note('Something went wrong showing this page: ' + (e && e.message), true));
    }
    window.scrollTo(0, 0);
    document.body.dataset.ready = hash; // for tests and assistive tools: the page has rendered
  }
  window.addEventListener('hashchange', () => { delete document.body.dataset.ready; $('#flash').hidden = true; route(); });
  signIn().then(() => { refreshCount(); route(); });
})();
