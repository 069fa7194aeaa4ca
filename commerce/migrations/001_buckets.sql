-- Format 2 of the commerce store (StoreFormat) on PostgreSQL: one table
-- per bucket of the embedded store, keys and values as the bbolt file
-- holds them (doc/commerce.md lists what each bucket keeps).
CREATE SCHEMA IF NOT EXISTS commerce;

CREATE TABLE commerce.meta       (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.carts      (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.stock      (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.resv       (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.expiry     (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.outbox     (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.checkout   (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.idem       (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.orders     (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.routed     (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.shipments  (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.warehouses (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.purchases  (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.reviews    (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.votes      (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.ratings    (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.picklists  (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.carrier    (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE commerce.userorders (k bytea PRIMARY KEY, v bytea NOT NULL);

-- The outbox's keys: taken inside the writing transaction, after its
-- snapshot, so two transactions that write a common row get numbers in
-- their commit order (the second one's snapshot follows the first's
-- commit, or SERIALIZABLE fails it).
CREATE SEQUENCE commerce.outbox_seq;
