-- kontor schema, version 1. Canonical: embedded by src/db/mod.rs and applied to an empty file.
-- Timestamps are RFC 3339 UTC text ('2026-01-31T10:00:00+00:00'), so text order is time order.
-- Every tenant-owned table carries tenant_id; `users` is the one installation-wide table
-- (one person may belong to several tenants through `accounts`).
-- Allowed values are spelled `x = 'a' OR x = 'b' OR ...`, not `x IN ('a', 'b', ...)`: SQLite
-- evaluates an IN list of three or more constants by building a temporary b-tree every time a
-- row is checked, which was a fifth of the cost of a billing run.

CREATE TABLE tenants (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    username           TEXT NOT NULL UNIQUE,
    legal_company_name TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE roles (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL, -- JSON array of scopes
    predefined  INTEGER NOT NULL DEFAULT 0 CHECK (predefined IN (0, 1)),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    role_id     TEXT NOT NULL,
    deactivated INTEGER NOT NULL DEFAULT 0 CHECK (deactivated IN (0, 1)),
    created_at  TEXT NOT NULL,
    UNIQUE (tenant_id, user_id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id)
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    token_hash  TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret; the secret is never stored
    description TEXT,
    expires_at  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX api_tokens_owner ON api_tokens (tenant_id, user_id, created_at);

-- One row whose stamp changes with every change to roles, accounts or tokens, the rows a
-- bearer token is resolved from: a connection's cache of resolved tokens (`auth::Cache`) stays
-- valid while the stamp it reads is the one it cached under. random(), not a counter: a rolled
-- back change brings the old stamp back, and a counter would then hand out a used value again
-- for different rows (odds of random() doing so: 2^-64).
CREATE TABLE auth_stamp (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    stamp INTEGER NOT NULL
);
INSERT INTO auth_stamp (id, stamp) VALUES (1, 0);
CREATE TRIGGER roles_insert_auth_stamp AFTER INSERT ON roles
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER roles_update_auth_stamp AFTER UPDATE ON roles
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER roles_delete_auth_stamp AFTER DELETE ON roles
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER accounts_insert_auth_stamp AFTER INSERT ON accounts
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER accounts_update_auth_stamp AFTER UPDATE ON accounts
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER accounts_delete_auth_stamp AFTER DELETE ON accounts
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER api_tokens_insert_auth_stamp AFTER INSERT ON api_tokens
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER api_tokens_update_auth_stamp AFTER UPDATE ON api_tokens
BEGIN UPDATE auth_stamp SET stamp = random(); END;
CREATE TRIGGER api_tokens_delete_auth_stamp AFTER DELETE ON api_tokens
BEGIN UPDATE auth_stamp SET stamp = random(); END;

CREATE TABLE settings (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    context   TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL, -- JSON
    PRIMARY KEY (tenant_id, context, key)
);

CREATE TABLE number_ranges (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    type        TEXT NOT NULL CHECK (type = 'customer' OR type = 'subscription'
                                     OR type = 'invoice' OR type = 'credit_note'
                                     OR type = 'cancellation' OR type = 'dunning'
                                     OR type = 'payment' OR type = 'offer'
                                     OR type = 'sepa_mandate' OR type = 'datev_debtor'),
    format      TEXT NOT NULL,
    next_number INTEGER NOT NULL CHECK (next_number >= 1),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, type)
);

-- Every number ever handed out: the UNIQUE key makes reissuing one impossible.
CREATE TABLE issued_numbers (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    range_type TEXT NOT NULL,
    number     TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, range_type, number)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Side effects (webhooks, e-mails) written in the same transaction as the change. An event
-- whose data is an earlier event's of the same transaction (a billing run's invoice.created
-- and invoice.finalized carry the invoice as committed) points at that event's payload instead
-- of storing a second copy; `outbox_events` shows every event with its data.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY, -- delivery order; rows are never deleted, so never reused
    event_id     TEXT NOT NULL UNIQUE,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    event_type   TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    payload      TEXT,          -- JSON
    payload_of   INTEGER REFERENCES outbox(id),
    created_at   TEXT NOT NULL,
    delivered_at TEXT,
    CHECK ((payload IS NULL) <> (payload_of IS NULL))
);
CREATE INDEX outbox_pending ON outbox (delivered_at, id);
CREATE VIEW outbox_events AS
    SELECT o.id, o.event_id, o.tenant_id, o.event_type, o.object_id,
           COALESCE(o.payload, p.payload) AS payload, o.created_at, o.delivered_at
    FROM outbox o LEFT JOIN outbox p ON p.id = o.payload_of;

CREATE TABLE customers (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL REFERENCES tenants(id),
    customer_number            TEXT NOT NULL,
    email                      TEXT NOT NULL COLLATE NOCASE,
    first_name                 TEXT NOT NULL DEFAULT '',
    last_name                  TEXT NOT NULL DEFAULT '',
    company_name               TEXT,
    currency_code              TEXT NOT NULL DEFAULT '',
    datev_id                   TEXT,
    language                   TEXT NOT NULL DEFAULT 'de' CHECK (language IN ('de', 'en')),
    time_zone                  TEXT NOT NULL DEFAULT 'Europe/Berlin',
    -- CHECKs on the customer tables compare value by value: an IN list of three or more
    -- constants makes SQLite build a temporary b-tree on every INSERT to check it.
    gender                     TEXT CHECK (gender = 'male' OR gender = 'female' OR gender = 'diverse'),
    phone                      TEXT NOT NULL DEFAULT '',
    vat_id                     TEXT NOT NULL DEFAULT '',
    is_vat_id_valid            INTEGER NOT NULL DEFAULT 0 CHECK (is_vat_id_valid IN (0, 1)),
    commercial_register_name   TEXT,
    commercial_register_number TEXT,
    customer_group_id          TEXT,
    contact_person_id          TEXT,
    custom_fields              TEXT NOT NULL DEFAULT '{}', -- JSON object
    tax_exempt                 TEXT NOT NULL DEFAULT 'auto' CHECK (tax_exempt IN ('auto', 'exempt')),
    status                     TEXT NOT NULL DEFAULT 'STATUS_ACTIVE'
                                   CHECK (status = 'STATUS_ACTIVE' OR status = 'STATUS_ARCHIVED'
                                          OR status = 'STATUS_SUSPENDED'),
    default_payment_method_id  TEXT,
    total_turnover_rank        INTEGER NOT NULL DEFAULT 0,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    -- See the triggers after `customer_email_addresses`; NULL: lists never kept.
    children_stamp             INTEGER,
    UNIQUE (tenant_id, customer_number),
    UNIQUE (tenant_id, email)
);
-- `id` last: the list's default order (created_at, id) reads this index without a sort.
CREATE INDEX customers_created ON customers (tenant_id, created_at, id);

-- Addresses and e-mail addresses are small rows keyed by their (time-ordered) uuid alone:
-- WITHOUT ROWID saves a b-tree per insert and a lookup per read by id, and their customer_id
-- indexes end in the primary key, so `ORDER BY created_at, id` needs no sort. (Customers stay
-- a rowid table: their rows are large, and measured no cheaper without rowid.)
CREATE TABLE customer_addresses (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    customer_id  TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    type         TEXT NOT NULL CHECK (type IN ('TYPE_DEFAULT', 'TYPE_INVOICE')),
    is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    company_name TEXT,
    first_name   TEXT,
    last_name    TEXT,
    -- Value by value, not IN: see customers.gender.
    salutation   TEXT CHECK (salutation = 'Firma' OR salutation = 'Herr' OR salutation = 'Frau'),
    street       TEXT NOT NULL DEFAULT '',
    house_number TEXT NOT NULL DEFAULT '',
    zip          TEXT NOT NULL DEFAULT '',
    city         TEXT NOT NULL DEFAULT '',
    addition     TEXT NOT NULL DEFAULT '',
    cost_centre  TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL,
    vat_id       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX customer_addresses_customer ON customer_addresses (customer_id, created_at);
-- At most one default address per customer and type.
CREATE UNIQUE INDEX customer_addresses_one_default
    ON customer_addresses (customer_id, type) WHERE is_default = 1;

CREATE TABLE customer_email_addresses (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    receiver_name    TEXT NOT NULL DEFAULT '',
    is_invoice_email INTEGER NOT NULL DEFAULT 0 CHECK (is_invoice_email IN (0, 1)),
    is_dunning_email INTEGER NOT NULL DEFAULT 0 CHECK (is_dunning_email IN (0, 1)),
    is_default       INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX customer_email_addresses_customer ON customer_email_addresses (customer_id, created_at);
CREATE UNIQUE INDEX customer_email_addresses_one_default
    ON customer_email_addresses (customer_id) WHERE is_default = 1;

-- A customer's addresses and e-mail addresses are read far more often than they change: a read
-- keeps reusing the lists it built while `customers.children_stamp` is the one it built them
-- under (`customers::children`). Every change to those rows gives the customer a new random
-- stamp in the same transaction: updates and deletes through these triggers, from any
-- connection or process; inserts in the two stores' `insert`, the only statements that add
-- such rows (a trigger on insert, even one that changed nothing, cost creates 10 %). A
-- customer is stamped when its row is inserted, so the rows it is created with, written in
-- the same transaction, need no new stamp. NULL (a row inserted by other means) is never
-- kept and never stamped. random() for the reason given at `auth_stamp`.
CREATE TRIGGER customer_addresses_update_stamp AFTER UPDATE ON customer_addresses
BEGIN
    UPDATE customers SET children_stamp = random()
    WHERE id IN (OLD.customer_id, NEW.customer_id) AND children_stamp IS NOT NULL;
END;
CREATE TRIGGER customer_addresses_delete_stamp AFTER DELETE ON customer_addresses
BEGIN
    UPDATE customers SET children_stamp = random()
    WHERE id = OLD.customer_id AND children_stamp IS NOT NULL;
END;
CREATE TRIGGER customer_email_addresses_update_stamp AFTER UPDATE ON customer_email_addresses
BEGIN
    UPDATE customers SET children_stamp = random()
    WHERE id IN (OLD.customer_id, NEW.customer_id) AND children_stamp IS NOT NULL;
END;
CREATE TRIGGER customer_email_addresses_delete_stamp AFTER DELETE ON customer_email_addresses
BEGIN
    UPDATE customers SET children_stamp = random()
    WHERE id = OLD.customer_id AND children_stamp IS NOT NULL;
END;

CREATE TABLE customer_settings (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    context     TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL, -- JSON
    PRIMARY KEY (customer_id, context, key)
);

-- Catalogue (reference 10). Every tenant is seeded with a unit, the `quantity` measurement and
-- the tax groups Standard / Reduced / Zero (src/bootstrap.rs).

CREATE TABLE units (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    translations TEXT NOT NULL, -- JSON object locale -> name
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX units_tenant ON units (tenant_id, created_at);

CREATE TABLE measurements (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    code             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    unit_id          TEXT NOT NULL REFERENCES units(id),
    aggregation_type TEXT NOT NULL
                         CHECK (aggregation_type = 'count' OR aggregation_type = 'count_unique'
                                OR aggregation_type = 'max' OR aggregation_type = 'sum'
                                OR aggregation_type = 'last_value'
                                OR aggregation_type = 'average'),
    fair_billing     INTEGER NOT NULL DEFAULT 1 CHECK (fair_billing IN (0, 1)),
    type             TEXT NOT NULL DEFAULT 'recurring',
    is_default       INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (tenant_id, code)
);
-- Foreign-key child columns are indexed so deleting a unit or measurement checks its users fast.
CREATE INDEX measurements_unit ON measurements (unit_id);

CREATE TABLE product_families (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX product_families_tenant ON product_families (tenant_id, created_at);

CREATE TABLE tax_groups (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type = 'standard' OR type = 'reduced' OR type = 'zero'),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tax_groups_tenant ON tax_groups (tenant_id, created_at);

CREATE TABLE tax_group_rates (
    tax_group_id TEXT NOT NULL REFERENCES tax_groups(id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    country_code TEXT NOT NULL, -- ISO alpha-2, 'EU_*' or '*'
    rate         TEXT NOT NULL, -- exact decimal percent, e.g. '19'
    description  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tax_group_id, country_code)
);

CREATE TABLE products (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    type               TEXT NOT NULL CHECK (type = 'product' OR type = 'charge' OR type = 'plan'),
    name               TEXT NOT NULL,
    description        TEXT,
    internal_name      TEXT,
    number             TEXT,
    measurement_id     TEXT NOT NULL REFERENCES measurements(id),
    tax_group_id       TEXT NOT NULL REFERENCES tax_groups(id),
    invoice_visibility TEXT NOT NULL DEFAULT 'always' CHECK (invoice_visibility IN ('always', 'only_if_charged')),
    cost_centre_id     TEXT,
    is_archived        INTEGER NOT NULL DEFAULT 0 CHECK (is_archived IN (0, 1)),
    custom_fields      TEXT NOT NULL DEFAULT '{}', -- JSON object
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX products_tenant ON products (tenant_id, created_at);
CREATE INDEX products_measurement ON products (measurement_id);
CREATE INDEX products_tax_group ON products (tax_group_id);

CREATE TABLE product_family_products (
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL REFERENCES product_families(id),
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (product_id, family_id)
) WITHOUT ROWID;
CREATE INDEX product_family_products_family ON product_family_products (family_id);

-- Price plans (src/resources/price_plans). Unit prices, amounts and percentages are exact
-- decimal TEXT (DESIGN §5); the CHECKs keep each type's price shape consistent.
CREATE TABLE price_plans (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants(id),
    product_id              TEXT NOT NULL REFERENCES products(id),
    customer_id             TEXT REFERENCES customers(id),
    internal_name           TEXT,
    type                    TEXT NOT NULL CHECK (type = 'flat_fee' OR type = 'per_unit'
                                                 OR type = 'tiered' OR type = 'volume'
                                                 OR type = 'stair_step' OR type = 'percentage'),
    status                  TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    currency_code           TEXT NOT NULL,
    billing_interval        TEXT, -- '<n><D|W|M|Y>'; NULL for one-time charges
    amount                  TEXT, -- flat_fee, per_unit
    percentage              TEXT, -- percentage
    pay_in_advance          INTEGER NOT NULL DEFAULT 1 CHECK (pay_in_advance IN (0, 1)),
    pro_rata                INTEGER NOT NULL DEFAULT 1 CHECK (pro_rata IN (0, 1)),
    free_units              INTEGER NOT NULL DEFAULT 0 CHECK (free_units >= 0),
    apply_trial             INTEGER NOT NULL DEFAULT 1 CHECK (apply_trial IN (0, 1)),
    trial_days              INTEGER NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
    show_price_per_interval TEXT,
    sales_channel           TEXT, -- JSON object
    charge_id               TEXT REFERENCES products(id),
    product_set_option_id   TEXT,
    -- Sticky: set by whatever first references the plan for billing (subscriptions call
    -- price_plans::store::mark_in_use). Once billed, the amounts must stay as invoiced.
    in_use                  INTEGER NOT NULL DEFAULT 0 CHECK (in_use IN (0, 1)),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    CHECK ((amount IS NOT NULL) = (type IN ('flat_fee', 'per_unit'))),
    CHECK ((percentage IS NOT NULL) = (type = 'percentage'))
);
CREATE INDEX price_plans_tenant ON price_plans (tenant_id, created_at);
CREATE INDEX price_plans_product ON price_plans (product_id);
CREATE INDEX price_plans_customer ON price_plans (customer_id) WHERE customer_id IS NOT NULL;

-- Bands of tiered, volume and stair-step plans, replaced as a whole on update.
CREATE TABLE price_plan_tiers (
    price_plan_id TEXT NOT NULL REFERENCES price_plans(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (position >= 0),
    from_quantity INTEGER NOT NULL CHECK (from_quantity >= 1),
    to_quantity   INTEGER CHECK (to_quantity IS NULL OR to_quantity >= from_quantity),
    unit_price    TEXT NOT NULL,
    flat_amount   TEXT NOT NULL,
    PRIMARY KEY (price_plan_id, position)
) WITHOUT ROWID;

-- Coupons (src/resources/coupons). Deleting a coupon only sets deleted_at: discounts already
-- applied keep running on its terms and redemptions keep their reference (10 §6.5); a deleted
-- coupon's code may be used again.
CREATE TABLE coupons (
    id                           TEXT PRIMARY KEY,
    tenant_id                    TEXT NOT NULL REFERENCES tenants(id),
    code                         TEXT NOT NULL COLLATE NOCASE CHECK (length(code) BETWEEN 1 AND 255),
    name                         TEXT NOT NULL,
    type                         TEXT NOT NULL CHECK (type IN ('percentage', 'fixed_amount')),
    percentage                   TEXT, -- exact decimal percent, 0 < x <= 100
    fixed_amount                 TEXT, -- exact decimal in currency_code, > 0
    currency_code                TEXT,
    frequency                    TEXT NOT NULL CHECK (frequency = 'once'
                                                      OR frequency = 'limited'
                                                      OR frequency = 'lifetime'),
    frequency_interval           INTEGER CHECK (frequency_interval >= 1),
    expires_at                   TEXT,
    max_redemptions              INTEGER CHECK (max_redemptions >= 1),
    max_redemptions_per_customer INTEGER CHECK (max_redemptions_per_customer >= 1),
    enabled                      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    deleted_at                   TEXT,
    created_at                   TEXT NOT NULL,
    updated_at                   TEXT NOT NULL,
    CHECK ((type = 'percentage') = (percentage IS NOT NULL)),
    CHECK ((type = 'fixed_amount') = (fixed_amount IS NOT NULL AND currency_code IS NOT NULL)),
    CHECK ((frequency = 'limited') = (frequency_interval IS NOT NULL))
);
-- Codes are what customers type: unique per tenant regardless of case, among live coupons.
CREATE UNIQUE INDEX coupons_code ON coupons (tenant_id, code) WHERE deleted_at IS NULL;
CREATE INDEX coupons_tenant ON coupons (tenant_id, created_at);

CREATE TABLE coupon_products (
    coupon_id  TEXT NOT NULL REFERENCES coupons(id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products(id),
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    position   INTEGER NOT NULL, -- order as sent
    PRIMARY KEY (coupon_id, product_id)
) WITHOUT ROWID;
CREATE INDEX coupon_products_product ON coupon_products (product_id);

-- One row per redemption; counts enforce maxRedemptions and maxRedemptionsPerCustomer.
-- A deleted customer's redemptions still count towards the coupon's total.
CREATE TABLE coupon_redemptions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    coupon_id       TEXT NOT NULL REFERENCES coupons(id),
    customer_id     TEXT REFERENCES customers(id) ON DELETE SET NULL,
    subscription_id TEXT, -- set by the redeeming subscription, checkout or portal flow
    created_at      TEXT NOT NULL
);
CREATE INDEX coupon_redemptions_coupon ON coupon_redemptions (coupon_id, customer_id);

-- Custom fields (src/resources/custom_fields). Definitions only: values live in the owner's
-- `custom_fields` JSON column. `name` is the key there, unique per tenant and entity.
CREATE TABLE custom_fields (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    entity     TEXT NOT NULL CHECK (entity = 'customer' OR entity = 'product'
                                    OR entity = 'subscription'),
    name       TEXT NOT NULL,
    label      TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type = 'text' OR type = 'number' OR type = 'date'
                                    OR type = 'single_select' OR type = 'multi_select'
                                    OR type = 'list' OR type = 'checkbox'),
    choices    TEXT NOT NULL DEFAULT '[]', -- JSON array of {value, label}
    required   INTEGER NOT NULL DEFAULT 0 CHECK (required IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, entity, name)
);
CREATE INDEX custom_fields_tenant ON custom_fields (tenant_id, created_at);

-- Media (src/resources/media). The bytes are a BLOB in the same row, last so that reading
-- the metadata columns does not walk the BLOB's overflow pages.
CREATE TABLE media (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    folder         TEXT NOT NULL, -- mediaFolder.name, e.g. 'upload', 'invoice'
    is_private     INTEGER NOT NULL DEFAULT 1 CHECK (is_private IN (0, 1)),
    mime_type      TEXT NOT NULL,
    file_extension TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size >= 0),
    created_at     TEXT NOT NULL,
    content        BLOB NOT NULL
);
CREATE INDEX media_tenant ON media (tenant_id, created_at);

-- Download tokens: only the SHA-256 of the token is stored; valid until expires_at.
CREATE TABLE media_download_tokens (
    token_hash TEXT PRIMARY KEY,
    media_id   TEXT NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_download_tokens_expiry ON media_download_tokens (tenant_id, expires_at);

-- Invoices, positions, tax breakdown, history (src/resources/invoices)
-- Invoices, credit notes and cancellations share one table, told apart by `type` (06 §1).
-- Numbers: each type draws from its own range (TYPE_INVOICE -> 'invoice', TYPE_CREDIT ->
-- 'credit_note', TYPE_CANCELLATION -> 'cancellation'), so the key is (tenant, type, number),
-- i.e. (tenant, number range, number) as DESIGN §1 asks; issued_numbers also records each one.
-- Drafts carry no number; every other status carries one (the CHECK below).
-- Amounts are INTEGER minor units of currency_code (EUR cents, JPY yen); negative on
-- cancellations. Snapshots (customer, address, tenant) are JSON copied at finalization.
-- payment_method_id has no foreign key: payment methods may be added by a later slice.
CREATE TABLE invoices (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    customer_id         TEXT NOT NULL REFERENCES customers(id),
    type                TEXT NOT NULL DEFAULT 'TYPE_INVOICE'
                            CHECK (type = 'TYPE_INVOICE' OR type = 'TYPE_CANCELLATION'
                                   OR type = 'TYPE_CREDIT'),
    status              TEXT NOT NULL DEFAULT 'STATUS_DRAFT'
                            CHECK (status = 'STATUS_DRAFT' OR status = 'STATUS_FINALIZING'
                                   OR status = 'STATUS_UNPAID' OR status = 'STATUS_PAID'
                                   OR status = 'STATUS_CANCELLED'),
    number              TEXT,
    original_invoice_id TEXT REFERENCES invoices(id),
    currency_code       TEXT NOT NULL CHECK (length(currency_code) = 3),
    net_amount          INTEGER NOT NULL DEFAULT 0,
    tax_amount          INTEGER NOT NULL DEFAULT 0,
    gross_amount        INTEGER NOT NULL DEFAULT 0,
    discount_amount     INTEGER NOT NULL DEFAULT 0, -- sum of the positions' applied discounts
    paid_amount         INTEGER NOT NULL DEFAULT 0, -- succeeded payments minus refunds
    credited_amount     INTEGER NOT NULL DEFAULT 0, -- gross of credit notes against this invoice
    unpaid_amount       INTEGER NOT NULL DEFAULT 0, -- 06 §1.16; 0 on drafts
    title               TEXT NOT NULL DEFAULT '',
    introduction        TEXT NOT NULL DEFAULT '',
    closing             TEXT NOT NULL DEFAULT '',
    internal_note       TEXT NOT NULL DEFAULT '',
    custom_fields       TEXT NOT NULL DEFAULT '{}', -- JSON object
    -- The address chosen for the draft; SET NULL on its deletion is harmless for finalized
    -- documents because the printed address is the invoice_address snapshot.
    invoice_address_id  TEXT REFERENCES customer_addresses(id) ON DELETE SET NULL,
    invoice_address     TEXT,          -- JSON address snapshot (set by customer-address / finalize)
    customer_vat_id     TEXT,          -- VAT id printed on the document
    customer_name       TEXT,          -- company name, else "first last", at finalization
    customer_snapshot   TEXT,          -- JSON: the customer object at finalization
    tenant_snapshot     TEXT,          -- JSON: organization settings + legal name at finalization
    payment_method_id   TEXT,
    finalization_date   TEXT,          -- YYYY-MM-DD in the tenant's time zone
    finalized_at        TEXT,          -- RFC 3339 UTC instant of finalization
    due_date            TEXT,          -- YYYY-MM-DD
    pay_date            TEXT,          -- RFC 3339, when it became paid
    service_period_from TEXT,          -- YYYY-MM-DD: earliest position service date
    service_period_to   TEXT,          -- YYYY-MM-DD: latest position service date
    dunning_level       INTEGER NOT NULL DEFAULT 0 CHECK (dunning_level >= 0),
    dunning_status      TEXT NOT NULL DEFAULT 'none'
                            CHECK (dunning_status = 'none' OR dunning_status = 'reminded'
                                   OR dunning_status = 'dunning' OR dunning_status = 'suspended'),
    last_reminder_date  TEXT,
    last_sent_at        TEXT,
    correction_reason   TEXT CHECK (correction_reason = 'duplicate'
                                    OR correction_reason = 'incorrect'
                                    OR correction_reason = 'product_unsatisfactory'
                                    OR correction_reason = 'order_change'
                                    OR correction_reason = 'other'),
    correction_comment  TEXT,
    created_by          TEXT,          -- user id of the creator (NULL for system-made documents)
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (tenant_id, type, number),
    CHECK ((status = 'STATUS_DRAFT') = (number IS NULL)),
    CHECK ((type = 'TYPE_INVOICE') = (original_invoice_id IS NULL)),
    CHECK (gross_amount = net_amount + tax_amount),
    CHECK (status <> 'STATUS_DRAFT' OR (paid_amount = 0 AND credited_amount = 0 AND unpaid_amount = 0)),
    CHECK (status = 'STATUS_DRAFT' OR (finalization_date IS NOT NULL AND due_date IS NOT NULL))
);
CREATE INDEX invoices_tenant ON invoices (tenant_id, created_at);
CREATE INDEX invoices_customer ON invoices (customer_id, created_at);
CREATE INDEX invoices_original ON invoices (original_invoice_id) WHERE original_invoice_id IS NOT NULL;
CREATE INDEX invoices_due ON invoices (tenant_id, status, due_date);

-- GoBD: once a document leaves STATUS_DRAFT, nothing that is printed or counted may change.
-- The API answers 409 first; these triggers are the net under every code path. What may still
-- change: status, paid/credited/unpaid amounts, pay date, dunning, sending, payment method.
CREATE TRIGGER invoices_immutable BEFORE UPDATE OF
    customer_id, type, number, original_invoice_id, currency_code, net_amount, tax_amount,
    gross_amount, discount_amount, title, introduction, closing, internal_note, custom_fields,
    invoice_address, customer_vat_id, customer_name, customer_snapshot,
    tenant_snapshot, finalization_date, finalized_at, due_date, service_period_from,
    service_period_to, created_at
ON invoices WHEN OLD.status <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices WHEN OLD.status <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices cannot be deleted'); END;

-- Position tree of at most two levels: parent_id points at a top-level position of the same
-- invoice. quantity / unit_price / discounts are exact decimal TEXT as entered; the *_amount
-- columns are INTEGER minor units computed by src/billing (06 §6). A heading (a parent without
-- its own price) has unit_price and tax_group_id NULL and counts 0.
--
-- invoice_id (here and in invoice_tax_breakdown) is checked at COMMIT, not per statement: a
-- billing run inserts the positions first and then its invoice already sealed, in one INSERT
-- (`invoices::issue`), since the frozen triggers refuse positions of a sealed invoice. The
-- triggers still refuse them for any invoice that exists and is not a draft; a position whose
-- invoice never follows fails the commit. Only these two keys are deferred: SQLite looks up
-- the children of a deferred key on every insert into invoices, not of the immediate ones.
CREATE TABLE invoice_positions (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    invoice_id           TEXT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE
                             DEFERRABLE INITIALLY DEFERRED,
    parent_id            TEXT REFERENCES invoice_positions(id) ON DELETE CASCADE,
    sort_order           INTEGER NOT NULL CHECK (sort_order >= 1),
    type                 TEXT CHECK (type = 'product' OR type = 'discount' OR type = 'setup'
                                     OR type = 'dunning_fee' OR type = 'invoice'),
    group_name           TEXT,         -- headline the position is printed under
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    description          TEXT,
    quantity             TEXT NOT NULL, -- exact decimal, may be negative
    unit_id              TEXT REFERENCES units(id),
    unit_price           TEXT,          -- exact decimal, up to 10 fractional digits
    discount_amount      TEXT,          -- per unit as entered, exact decimal >= 0
    discount_percentage  TEXT,          -- exact decimal, 0 < x < 100
    product_id           TEXT REFERENCES products(id),
    subscription_item_id TEXT,
    tax_group_id         TEXT REFERENCES tax_groups(id),
    tax_rate             TEXT,          -- exact decimal percent from the tax resolution
    tax_treatment        TEXT CHECK (tax_treatment = 'domestic'
                                     OR tax_treatment = 'reverse_charge'
                                     OR tax_treatment = 'non_eu'
                                     OR tax_treatment = 'small_business'
                                     OR tax_treatment = 'exempt'
                                     OR tax_treatment = 'eu_consumer'),
    tax_note             TEXT,
    tax_country          TEXT,
    net_before_discount  INTEGER NOT NULL DEFAULT 0, -- round(quantity x unit price)
    discount_fixed       INTEGER NOT NULL DEFAULT 0, -- discount applied to the line
    net_amount           INTEGER NOT NULL DEFAULT 0, -- the line net that enters the totals
    tax_amount           INTEGER NOT NULL DEFAULT 0, -- informational: round(line net x rate)
    unit_price_interval  TEXT,
    service_date_from    TEXT,
    service_date_to      TEXT CHECK (service_date_to IS NULL OR service_date_from IS NULL
                             OR service_date_to >= service_date_from),
    credited_quantity    TEXT NOT NULL DEFAULT '0', -- exact decimal, moved by credit notes
    original_position_id TEXT REFERENCES invoice_positions(id), -- on credit notes / cancellations
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CHECK (discount_amount IS NULL OR discount_percentage IS NULL),
    CHECK ((unit_price IS NULL) = (tax_group_id IS NULL))
);
CREATE INDEX invoice_positions_invoice ON invoice_positions (invoice_id, parent_id, sort_order);
CREATE INDEX invoice_positions_parent ON invoice_positions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX invoice_positions_original ON invoice_positions (original_position_id)
    WHERE original_position_id IS NOT NULL;

CREATE TRIGGER invoice_positions_tree BEFORE INSERT ON invoice_positions
WHEN NEW.parent_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM invoice_positions p
    WHERE p.id = NEW.parent_id AND p.invoice_id = NEW.invoice_id AND p.parent_id IS NULL)
BEGIN SELECT RAISE(ABORT, 'a parent position must be a top-level position of the same invoice'); END;
-- Positions of a finalized document are frozen except for the credited quantity.
CREATE TRIGGER invoice_positions_frozen_insert BEFORE INSERT ON invoice_positions
WHEN (SELECT status FROM invoices WHERE id = NEW.invoice_id) <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;
CREATE TRIGGER invoice_positions_frozen_update BEFORE UPDATE OF
    invoice_id, parent_id, sort_order, type, group_name, name, description, quantity, unit_id,
    unit_price, discount_amount, discount_percentage, product_id, tax_group_id, tax_rate,
    tax_treatment, tax_note, tax_country, net_before_discount, discount_fixed, net_amount,
    tax_amount, service_date_from, service_date_to
ON invoice_positions WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;
CREATE TRIGGER invoice_positions_frozen_delete BEFORE DELETE ON invoice_positions
WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;

-- One row per (treatment, rate): net is the sum of the line nets, tax is computed on that sum
-- and rounded once (06 §6). Rewritten whenever a draft's totals are recomputed.
CREATE TABLE invoice_tax_breakdown (
    invoice_id TEXT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE
                   DEFERRABLE INITIALLY DEFERRED, -- see invoice_positions
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    rate       TEXT NOT NULL, -- exact decimal percent
    treatment  TEXT NOT NULL CHECK (treatment = 'domestic' OR treatment = 'reverse_charge'
                                    OR treatment = 'non_eu' OR treatment = 'small_business'
                                    OR treatment = 'exempt' OR treatment = 'eu_consumer'),
    note       TEXT,
    net_amount INTEGER NOT NULL,
    tax_amount INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, treatment, rate)
) WITHOUT ROWID;
CREATE TRIGGER invoice_tax_breakdown_frozen_insert BEFORE INSERT ON invoice_tax_breakdown
WHEN (SELECT status FROM invoices WHERE id = NEW.invoice_id) <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;
CREATE TRIGGER invoice_tax_breakdown_frozen_update BEFORE UPDATE ON invoice_tax_breakdown
WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;
CREATE TRIGGER invoice_tax_breakdown_frozen_delete BEFORE DELETE ON invoice_tax_breakdown
WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'STATUS_DRAFT'
BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END;

-- Append-only audit log (who, what, when), written in the transaction of each change.
-- invoice_id has no foreign key on purpose: the log of a deleted draft is kept.
CREATE TABLE invoice_history (
    id         INTEGER PRIMARY KEY, -- order of appending
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    invoice_id TEXT NOT NULL,
    at         TEXT NOT NULL,       -- RFC 3339 UTC
    user_id    TEXT,                -- acting user; NULL for system actions (billing runs)
    action     TEXT NOT NULL,       -- e.g. 'created', 'updated', 'finalized', 'position.added'
    details    TEXT NOT NULL DEFAULT '{}' -- JSON
);
CREATE INDEX invoice_history_invoice ON invoice_history (invoice_id, id);
CREATE TRIGGER invoice_history_no_update BEFORE UPDATE ON invoice_history
BEGIN SELECT RAISE(ABORT, 'invoice history is append-only'); END;
CREATE TRIGGER invoice_history_no_delete BEFORE DELETE ON invoice_history
BEGIN SELECT RAISE(ABORT, 'invoice history is append-only'); END;

-- Payments and transactions (src/resources/payments)
-- Money movements (04 §2): payments, refunds, payouts, chargebacks. `amount` is positive INTEGER
-- minor units of currency_code; `type` gives the direction. Each carries a number from the
-- 'payment' range (a receipt number for the books). Rows are never deleted, and nothing but
-- the status (a pending refund paid out, a debit returned) changes after insert.
-- correction_id: the credit note whose refund this is (06 §1.9).
-- payment_method_id has no foreign key: payment methods come with a later slice.
CREATE TABLE payment_transactions (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    number            TEXT NOT NULL,
    type              TEXT NOT NULL CHECK (type = 'payment' OR type = 'refund'
                                           OR type = 'payout' OR type = 'chargeback'),
    status            TEXT NOT NULL CHECK (status = 'pending' OR status = 'waiting'
                                           OR status = 'succeeded' OR status = 'failed'),
    amount            INTEGER NOT NULL CHECK (amount > 0),
    fee               INTEGER CHECK (fee >= 0),
    currency_code     TEXT NOT NULL CHECK (length(currency_code) = 3),
    invoice_id        TEXT REFERENCES invoices(id),
    correction_id     TEXT REFERENCES invoices(id),
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    payment_method_id TEXT,
    gateway           TEXT NOT NULL CHECK (gateway = 'wallet' OR gateway = 'sepa_debit'
                                           OR gateway = 'stripe' OR gateway = 'fake_provider'
                                           OR gateway = 'paypal' OR gateway = 'bank_transfer'
                                           OR gateway = 'go_cardless' OR gateway = 'testing'),
    reference         TEXT,
    description       TEXT,
    payment_date      TEXT,            -- YYYY-MM-DD in the tenant's time zone
    created_by        TEXT,            -- acting user id
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX payment_transactions_tenant ON payment_transactions (tenant_id, created_at);
CREATE INDEX payment_transactions_invoice ON payment_transactions (invoice_id, created_at);
CREATE INDEX payment_transactions_correction ON payment_transactions (correction_id)
    WHERE correction_id IS NOT NULL;
CREATE INDEX payment_transactions_customer ON payment_transactions (customer_id);
CREATE TRIGGER payment_transactions_immutable BEFORE UPDATE OF
    id, tenant_id, number, type, amount, fee, currency_code, invoice_id, correction_id,
    customer_id, payment_method_id, gateway, reference, description, payment_date, created_by,
    created_at
ON payment_transactions
BEGIN SELECT RAISE(ABORT, 'payment transactions are immutable'); END;
CREATE TRIGGER payment_transactions_no_delete BEFORE DELETE ON payment_transactions
BEGIN SELECT RAISE(ABORT, 'payment transactions cannot be deleted'); END;

-- Subscriptions and subscription items (src/resources/subscriptions)
-- All dates are calendar dates 'YYYY-MM-DD' in the tenant time zone; *_at columns are RFC 3339
-- timestamps. Contract end dates are the LAST COVERED DAY (inclusive): a subscription with
-- contract_end 2027-01-14 is billed up to and including 14 Jan 2027 (reference 08 §1.12 step 3).
CREATE TABLE subscriptions (
    id                          TEXT PRIMARY KEY,
    tenant_id                   TEXT NOT NULL REFERENCES tenants(id),
    customer_id                 TEXT NOT NULL REFERENCES customers(id),
    number                      TEXT NOT NULL, -- from the 'subscription' number range
    external_id                 TEXT,
    name                        TEXT,
    status                      TEXT NOT NULL DEFAULT 'draft'
                                    CHECK (status = 'draft' OR status = 'offer'
                                           OR status = 'active' OR status = 'paused'
                                           OR status = 'cancelled' OR status = 'terminated'),
    -- The billing_groups table belongs to another slice; the reference is checked in code.
    billing_group_id            TEXT,
    currency_code               TEXT NOT NULL, -- all items' price plans share it (08 §1.5)
    contract_start              TEXT NOT NULL,
    billing_start               TEXT NOT NULL,
    contract_end                TEXT,          -- last covered day; set by a fixed end or a cancellation
    contract_end_before_cancel  TEXT,          -- restored by revoke-cancellation
    trial_ends_on               TEXT,          -- first billable day; NULL = no trial
    -- Contract terms '<n><D|W|M|Y>'; NULL = the 08 §1.12 defaults.
    contract_period             TEXT,
    cancellation_period         TEXT,
    later_contract_period       TEXT,
    later_cancellation_period   TEXT,
    payment_method_id           TEXT,          -- NULL: the customer's default payment method
    invoice_address_id          TEXT REFERENCES customer_addresses(id) ON DELETE SET NULL,
    po_number                   TEXT,
    custom_fields               TEXT NOT NULL DEFAULT '{}', -- JSON object
    activated_at                TEXT,
    activation_date             TEXT,
    cancelled_at                TEXT,          -- when the cancel action happened
    cancellation_date_type      TEXT CHECK (cancellation_date_type = 'immediate'
                                            OR cancellation_date_type = 'next_possible'
                                            OR cancellation_date_type = 'custom'),
    cancellation_reason         TEXT,
    terminated_at               TEXT,
    paused_at                   TEXT,          -- date of the latest pause; billing stops from here
    resumed_at                  TEXT,          -- date of the latest resume
    -- 'bill_missed': periods missed during the pause are billed by the next run;
    -- 'skip': items restart at resume_next_billing_date (08 §1.9).
    resume_mode                 TEXT CHECK (resume_mode IN ('bill_missed', 'skip')),
    resume_next_billing_date    TEXT,
    next_billing_date           TEXT,          -- earliest items.next_billing_date (refresh_next_billing_date)
    last_billing_at             TEXT,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    UNIQUE (tenant_id, number),
    CHECK ((resume_mode = 'skip') = (resume_next_billing_date IS NOT NULL))
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, created_at);
CREATE INDEX subscriptions_customer ON subscriptions (customer_id);
CREATE INDEX subscriptions_status ON subscriptions (tenant_id, status);

CREATE TABLE subscription_items (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id),
    subscription_id        TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    parent_id              TEXT REFERENCES subscription_items(id),
    type                   TEXT NOT NULL DEFAULT 'product' CHECK (type = 'option'
                                                                  OR type = 'charge'
                                                                  OR type = 'plan-product'
                                                                  OR type = 'product'),
    product_id             TEXT NOT NULL REFERENCES products(id),
    price_plan_id          TEXT NOT NULL REFERENCES price_plans(id),
    name                   TEXT,          -- NULL: the product's name
    description            TEXT,
    further_information    TEXT,
    quantity               TEXT NOT NULL DEFAULT '1', -- exact decimal >= 0
    status                 TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending'
                                                                  OR status = 'active'
                                                                  OR status = 'canceled'
                                                                  OR status = 'terminated'),
    start_date             TEXT NOT NULL, -- activation date of the item ('phase')
    billing_start          TEXT NOT NULL, -- anchor asked for by the client
    trial_ends_on          TEXT,          -- first billable day of the item; NULL = no trial
    -- Billing schedule, maintained by this slice and by the billing engine:
    -- periods are billing_anchor + k * price plan interval (month-end clamped, 08 §7).
    -- billing_anchor = max(billing_start, trial_ends_on) unless re-anchored by a resume 'skip'.
    billing_anchor         TEXT NOT NULL,
    next_period_start      TEXT,          -- start of the first period not billed yet; NULL = nothing left
    next_billing_date      TEXT,          -- when that period falls due (start in advance, end in arrears)
    last_billed_from       TEXT,
    last_billed_to         TEXT,          -- last covered day of the last billed period
    last_billed_at         TEXT,
    end_date               TEXT,          -- last covered day (cancellation / fixed end); NULL = open
    end_date_before_cancel TEXT,
    periods                TEXT,          -- JSON contract terms; NULL = inherit the subscription's
    activated_at           TEXT,
    cancelled_at           TEXT,
    terminated_at          TEXT,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    CHECK (next_billing_date IS NULL OR next_period_start IS NOT NULL)
);
CREATE INDEX subscription_items_subscription ON subscription_items (subscription_id);
-- The billing engine's scan: billable items by due date.
CREATE INDEX subscription_items_due ON subscription_items (tenant_id, next_billing_date)
    WHERE (status = 'pending' OR status = 'active' OR status = 'canceled') AND next_billing_date IS NOT NULL;
CREATE INDEX subscription_items_product ON subscription_items (product_id);
CREATE INDEX subscription_items_price_plan ON subscription_items (price_plan_id);

-- A coupon applied to one item (reference 08 §2.5); one row per item the coupon covers.
CREATE TABLE subscription_discounts (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    subscription_id      TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    subscription_item_id TEXT NOT NULL REFERENCES subscription_items(id) ON DELETE CASCADE,
    coupon_id            TEXT NOT NULL REFERENCES coupons(id),
    -- Periods still discounted; NULL = lifetime. The billing engine decrements it per billed
    -- period and stops discounting at 0 ('once' starts at 1, 'limited' at frequency_interval).
    remaining_periods    INTEGER CHECK (remaining_periods >= 0),
    created_at           TEXT NOT NULL,
    UNIQUE (subscription_item_id, coupon_id)
);
CREATE INDEX subscription_discounts_subscription ON subscription_discounts (subscription_id);

-- Measurements and billing groups (src/resources/subscription_measurements, billing_groups)
-- A customer's billing group (08 §4): its subscriptions' periods start on the group date.
-- custom_day is required for 'custom' and only kept there; custom_month is optional.
CREATE TABLE billing_groups (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    customer_id  TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type = 'start_of_month' OR type = 'end_of_month'
                                      OR type = 'start_of_year' OR type = 'end_of_year'
                                      OR type = 'custom'),
    custom_day   INTEGER CHECK (custom_day BETWEEN 1 AND 31),
    custom_month INTEGER CHECK (custom_month BETWEEN 1 AND 12),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK ((type = 'custom') = (custom_day IS NOT NULL)),
    CHECK (type = 'custom' OR custom_month IS NULL)
);
CREATE INDEX billing_groups_customer ON billing_groups (customer_id, created_at);

-- Measurement values are the one table written at bulk rates (POST
-- /subscription-measurements/batch, benches/measurements.rs), so their rows carry only what
-- cannot be derived, in integers where possible: no tenant (the item's), no measurement (the
-- item's product's, as billing reads it), no per-row id text, batch id or creation time (the
-- batch row's).

-- The integer key values use for an item (a 36-character TEXT id in every row and index
-- entry costs more than the rest of the row). Created by the first value stored for the item;
-- INTEGER PRIMARY KEY, so VACUUM keeps it. A key freed by a deleted item takes its values
-- with it (measured_items_cascade), so reusing it mixes nothing up.
CREATE TABLE measured_items (
    key     INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL UNIQUE REFERENCES subscription_items(id) ON DELETE CASCADE
);

-- One row per request that stored values (a single value: a batch of one without id). Its
-- values have the rowids first_value .. first_value + size - 1; first_value continues after
-- the previous batch's values, and batches are never deleted, so a value's rowid, and the
-- public id derived from it, is never handed out twice, even after its value was deleted.
-- id: the batch id `POST .../batch` answers (UUID v7); created_at: unix milliseconds UTC.
CREATE TABLE measurement_batches (
    first_value INTEGER PRIMARY KEY,
    size        INTEGER NOT NULL CHECK (size > 0),
    id          TEXT UNIQUE,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    created_at  INTEGER NOT NULL
);

-- Reported usage and quantity values (08 §3), one row per value and item (a value sent by
-- measurement code fans out to every matching item). Append-only; aggregated per period by
-- src/billing/usage.rs. The rowid is the value's identity: the public id is a UUID v7 of its
-- batch's created_at and the rowid (store::value_id), found again by decoding it. item:
-- measured_items.key (no foreign key: see measured_items_cascade). quantity is exact decimal
-- TEXT; measured_at is INTEGER unix milliseconds UTC, so the batch path stores a number
-- instead of formatting text and period windows are integer ranges. event_id: the caller's id for count_unique (NULL: its own event).
-- Ties of measured_at are ordered by rowid (arrival).
CREATE TABLE measurement_values (
    id          INTEGER PRIMARY KEY,
    item        INTEGER NOT NULL,
    measured_at INTEGER NOT NULL,
    quantity    TEXT NOT NULL,
    event_id    TEXT
);
CREATE INDEX measurement_values_item ON measurement_values (item, measured_at);
-- ON DELETE CASCADE without a foreign key: a foreign key costs a measured_items lookup per
-- inserted value, and only ingest writes values, for keys it has just resolved. Fires when the
-- item's deletion cascades to measured_items too.
CREATE TRIGGER measured_items_cascade AFTER DELETE ON measured_items
BEGIN DELETE FROM measurement_values WHERE item = OLD.key; END;

-- Billing runs and billed periods (src/resources/billing_runs, src/billing)
-- One row per run, dry runs included (they write nothing else). Counts are what the run billed
-- (a dry run: what it would bill). status: running -> completed | failed.
CREATE TABLE billing_runs (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    date                 TEXT NOT NULL,          -- YYYY-MM-DD billing date, tenant time zone
    dry_run              INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    status               TEXT NOT NULL CHECK (status = 'running' OR status = 'completed'
                                              OR status = 'failed'),
    subscriptions_billed INTEGER NOT NULL DEFAULT 0,
    invoices_created     INTEGER NOT NULL DEFAULT 0,
    customers_failed     INTEGER NOT NULL DEFAULT 0,
    started_at           TEXT NOT NULL,
    completed_at         TEXT,
    error                TEXT
);
CREATE INDEX billing_runs_tenant ON billing_runs (tenant_id, started_at);

-- The exactly-once invariant (DESIGN §1, §6): an item's period is billed once per reason, by
-- whichever run gets there first; a second run, a crash and re-run, or two concurrent runs
-- hit this key and bill nothing twice. Written in the transaction of the invoice it went on.
-- invoice_id is NULL for a period billed at zero while zero invoices are off.
CREATE TABLE billed_periods (
    id                   INTEGER PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    subscription_id      TEXT NOT NULL REFERENCES subscriptions(id),
    subscription_item_id TEXT NOT NULL REFERENCES subscription_items(id),
    period_start         TEXT NOT NULL,          -- first covered day
    period_end           TEXT NOT NULL,          -- last covered day
    reason               TEXT NOT NULL CHECK (reason IN ('recurring', 'usage')),
    billing_date         TEXT NOT NULL,
    amount               INTEGER NOT NULL,       -- line net in minor units, before discount
    discount             INTEGER NOT NULL DEFAULT 0,
    subscription_discount_id TEXT,               -- the applied coupon that discounted it
    invoice_id           TEXT REFERENCES invoices(id),
    billing_run_id       TEXT REFERENCES billing_runs(id),
    created_at           TEXT NOT NULL,
    UNIQUE (subscription_item_id, period_start, reason)
);
CREATE INDEX billed_periods_invoice ON billed_periods (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX billed_periods_discount ON billed_periods (subscription_discount_id)
    WHERE subscription_discount_id IS NOT NULL;
CREATE TRIGGER billed_periods_no_update BEFORE UPDATE ON billed_periods
BEGIN SELECT RAISE(ABORT, 'billed periods are append-only'); END;

-- One invoice per customer, billing date and currency: the second key of exactly-once.
CREATE TABLE billing_run_invoices (
    invoice_id     TEXT PRIMARY KEY REFERENCES invoices(id),
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    customer_id    TEXT NOT NULL REFERENCES customers(id),
    billing_date   TEXT NOT NULL,
    currency_code  TEXT NOT NULL,
    billing_run_id TEXT NOT NULL REFERENCES billing_runs(id),
    range_from     TEXT NOT NULL,                -- first covered day on the invoice
    range_to       TEXT NOT NULL,                -- last covered day on the invoice
    billed_at      TEXT NOT NULL,
    UNIQUE (tenant_id, customer_id, billing_date, currency_code)
);

-- Product groups (08 §5): ordered tiers ("memberships") for up- and downgrades of an item.
CREATE TABLE product_groups (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL REFERENCES tenants(id),
    name                       TEXT NOT NULL,
    same_billing_interval_only INTEGER NOT NULL DEFAULT 0,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
);
CREATE INDEX product_groups_tenant ON product_groups (tenant_id, created_at);
CREATE TABLE product_group_memberships (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants(id),
    product_group_id        TEXT NOT NULL REFERENCES product_groups(id),
    position                INTEGER NOT NULL,
    product_id              TEXT NOT NULL REFERENCES products(id),
    price_plans             TEXT NOT NULL,        -- JSON array of price plan ids, in order
    quantity_change_allowed INTEGER NOT NULL DEFAULT 0,
    change_timing           TEXT NOT NULL CHECK (change_timing IN ('immediately', 'end_of_period')),
    credit_type             TEXT NOT NULL CHECK (credit_type = 'pro_rata'
                                                 OR credit_type = 'full'
                                                 OR credit_type = 'last_invoiced'
                                                 OR credit_type = 'none'),
    UNIQUE (product_group_id, position)
);
-- The group an item may change within (PUT /subscription-items/{id}/product-group).
CREATE TABLE subscription_item_product_groups (
    subscription_item_id TEXT PRIMARY KEY REFERENCES subscription_items(id),
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    product_group_id     TEXT NOT NULL REFERENCES product_groups(id)
);
-- Applied tier changes: the old item is replaced by a new one from effective_date on.
CREATE TABLE product_group_changes (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    subscription_id    TEXT NOT NULL REFERENCES subscriptions(id),
    from_item_id       TEXT NOT NULL UNIQUE REFERENCES subscription_items(id), -- one change per item
    to_item_id         TEXT NOT NULL REFERENCES subscription_items(id),
    membership_id      TEXT NOT NULL REFERENCES product_group_memberships(id),
    change_timing      TEXT NOT NULL,
    credit_type        TEXT NOT NULL,
    effective_date     TEXT NOT NULL,            -- first day on the new plan
    charge_invoice_id  TEXT REFERENCES invoices(id),
    credit_note_id     TEXT REFERENCES invoices(id),
    created_at         TEXT NOT NULL
);
