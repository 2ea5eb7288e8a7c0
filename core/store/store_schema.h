/*
 * store_schema.h - the schema as forward migrations: entry i takes a database from version i
 * to i+1. Append new entries; never edit a shipped one. Owns: SQL text only. Used by store.c.
 */
#ifndef SIGFLOW_STORE_SCHEMA_H
#define SIGFLOW_STORE_SCHEMA_H

static const char *const store_migrations[] = {
    /* 0 -> 1: journal, inbound dedup, key-values, outbox with deliveries and attempts */
    "CREATE TABLE journal ("
    "  seq INTEGER PRIMARY KEY,"
    "  entity TEXT NOT NULL CHECK (length(entity) BETWEEN 1 AND 256),"
    "  type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 128),"
    "  time_ms INTEGER NOT NULL,"
    "  value REAL," /* NULL when the event has no value */
    "  attrs TEXT,"
    "  source_id TEXT);"
    "CREATE TABLE journal_state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  checkpointed_seq INTEGER NOT NULL);"
    "INSERT INTO journal_state VALUES (1, 0);"
    "CREATE TABLE dedup ("
    "  connector TEXT NOT NULL, source_id TEXT NOT NULL, seen_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (connector, source_id)) WITHOUT ROWID;"
    "CREATE INDEX dedup_seen ON dedup (seen_ms);"
    "CREATE TABLE kv ("
    "  ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;"
    "CREATE TABLE outbox_alert ("
    "  alert_id TEXT PRIMARY KEY, decision TEXT NOT NULL, entity TEXT NOT NULL,"
    "  time_ms INTEGER NOT NULL, json TEXT NOT NULL, created_ms INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE outbox_delivery ("
    "  id INTEGER PRIMARY KEY, alert_id TEXT NOT NULL, target TEXT NOT NULL,"
    "  state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL, last_error TEXT, updated_ms INTEGER NOT NULL,"
    "  UNIQUE (alert_id, target));"
    "CREATE INDEX outbox_due ON outbox_delivery (target, state, next_attempt_ms);"
    "CREATE TABLE outbox_attempt ("
    "  id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL, time_ms INTEGER NOT NULL,"
    "  result TEXT NOT NULL, error TEXT);"
    "CREATE INDEX outbox_attempt_delivery ON outbox_attempt (delivery_id);",
    /* 1 -> 2: the scoring engine's checkpoint and the journal position it covers; when each
       event was journaled (retention counts from arrival: a backfill's event times are old) */
    "ALTER TABLE journal ADD COLUMN journaled_ms INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE score_checkpoint ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  seq INTEGER NOT NULL,"
    "  written_ms INTEGER NOT NULL,"
    "  data BLOB NOT NULL);",
    /* 2 -> 3: which connector each event came through (`sigflow journal --connector`);
       NULL for events journaled before, or by no connector (tests, tools) */
    "ALTER TABLE journal ADD COLUMN connector TEXT;",
    /* 3 -> 4: labels: what became of an alert (confirmed, false_positive) or of an entity
       nobody was alerted about (missed), from the stream's outcomes or from people
       (docs/admin-api.md); alerts by entity for the admin API and `sigflow explain` */
    "CREATE TABLE labels ("
    "  id INTEGER PRIMARY KEY,"
    "  alert_id TEXT," /* NULL for missed */
    "  entity TEXT NOT NULL CHECK (length(entity) BETWEEN 1 AND 256),"
    "  label TEXT NOT NULL CHECK (label IN ('confirmed', 'false_positive', 'missed')),"
    "  source TEXT NOT NULL CHECK (source IN ('outcome', 'person')),"
    "  via TEXT NOT NULL," /* outcome, api, link */
    "  time_ms INTEGER NOT NULL,"
    "  recorded_ms INTEGER NOT NULL,"
    "  CHECK ((alert_id IS NULL) = (label = 'missed')));"
    "CREATE UNIQUE INDEX labels_alert ON labels (alert_id, source) WHERE alert_id IS NOT NULL;"
    "CREATE UNIQUE INDEX labels_missed ON labels (entity, time_ms, source)"
    "  WHERE alert_id IS NULL;"
    "CREATE INDEX labels_entity ON labels (entity, time_ms);"
    "CREATE INDEX outbox_alert_entity ON outbox_alert (entity, time_ms);",
};

#define STORE_MIGRATION_COUNT (sizeof store_migrations / sizeof store_migrations[0])

#endif
