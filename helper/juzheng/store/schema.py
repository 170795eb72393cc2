"""SQLite schema as numbered migrations; ``PRAGMA user_version`` records how far a database is."""

from __future__ import annotations

# The evidence table's lookup indexes, by name. A first index of a large folder drops them and
# builds each once after its bulk insert (100k rows: about 0.1 s less than keeping them up row by
# row); opening the store makes any that are missing again, should a first index have been cut
# off between the two. The unique path index stays: the bulk insert relies on it.
EVIDENCE_LOOKUPS: dict[str, str] = {
    "evidence_order": "CREATE INDEX IF NOT EXISTS evidence_order ON evidence (platform, order_id)",
    "evidence_sha": "CREATE INDEX IF NOT EXISTS evidence_sha ON evidence (sha256) WHERE sha256 IS NOT NULL",
}

MIGRATIONS: list[str] = [
    # 1: cases, evidence, confirmations, the move journal, pending inbox files, events.
    """
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        order_id TEXT NOT NULL,
        aftersale_id TEXT NOT NULL DEFAULT '',
        scenario TEXT,
        scenario_source TEXT NOT NULL DEFAULT 'detected',   -- detected | seller
        request_at TEXT,
        buyer_evidence_at TEXT,
        deadline_at TEXT,
        tracking_number TEXT,
        url TEXT,
        request_text TEXT,
        status TEXT NOT NULL DEFAULT 'open',                -- open | submitted | closed
        outcome TEXT,                                       -- won | lost
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (platform, order_id, aftersale_id)
    );
    CREATE INDEX cases_order ON cases (order_id);
    CREATE INDEX cases_deadline ON cases (status, deadline_at);

    -- Evidence belongs to an order (its folder), so every case of that order sees it.
    CREATE TABLE evidence (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        order_id TEXT NOT NULL,
        kind TEXT,                                          -- NULL: in 待分类
        path TEXT UNIQUE,                                   -- relative to the evidence root, '/' separated
        value TEXT,                                         -- text kinds
        generated_at TEXT,
        covers_from TEXT,
        sha256 TEXT,
        size INTEGER,
        mtime_ns INTEGER,
        how TEXT NOT NULL,                                  -- sorted | uploaded | hand | text
        added_at TEXT NOT NULL
    );
    CREATE INDEX evidence_order ON evidence (platform, order_id);
    CREATE INDEX evidence_sha ON evidence (sha256);

    CREATE TABLE confirmations (
        case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        field_id TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        PRIMARY KEY (case_id, kind, field_id)
    );

    -- Written before a move happens, so a crash can be completed or rolled back on start.
    CREATE TABLE moves (
        id INTEGER PRIMARY KEY,
        batch TEXT NOT NULL,
        src TEXT NOT NULL,
        dest TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        state TEXT NOT NULL,                                -- planned | done | rolled_back | failed | undone
        error TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX moves_state ON moves (state);

    -- Files in the inbox that could not be placed, and why (shown in API, overlay, tray, status).
    CREATE TABLE pending (
        path TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        case_id INTEGER,
        payload TEXT NOT NULL
    );

    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: the case list's computed summaries (a cold list reads them instead of evaluating every case)
    # and each case's last seen deadline level (was one JSON blob in settings, re-parsed per case).
    """
    CREATE TABLE case_summaries (
        case_id INTEGER PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        stamp TEXT NOT NULL,                                -- rulebook digest | case updated_at | evidence of the order
        computed_at TEXT NOT NULL,
        valid_until TEXT,                                   -- next level or validity boundary
        deadline_ts REAL,                                   -- for sorting without parsing data
        level TEXT,
        data TEXT NOT NULL                                  -- the CaseSummary JSON
    );
    CREATE TABLE case_levels (
        case_id INTEGER PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
        level TEXT NOT NULL
    );
    INSERT OR IGNORE INTO case_levels (case_id, level)
        SELECT CAST(j.key AS INTEGER), j.value FROM settings s, json_each(s.value) j
        WHERE s.key = 'case_levels' AND json_valid(s.value) AND CAST(j.key AS INTEGER) IN (SELECT id FROM cases);
    DELETE FROM settings WHERE key = 'case_levels'
    """,
    # 3: where a case's deadline came from; the page's and the seller's own deadlines kept apart so
    # that the earlier of two disagreeing sources can be used and the disagreement shown.
    """
    -- deadline_source: page | request | seller | estimate; request_source: page | seller | first_seen
    ALTER TABLE cases ADD COLUMN deadline_source TEXT;
    ALTER TABLE cases ADD COLUMN page_deadline_at TEXT;
    ALTER TABLE cases ADD COLUMN seller_deadline_at TEXT;
    ALTER TABLE cases ADD COLUMN request_source TEXT NOT NULL DEFAULT 'first_seen'
    """,
    # 4: what images read (offline OCR), cached by the bytes' sha256; field checks ticked from a reading.
    """
    CREATE TABLE readings (
        sha256 TEXT PRIMARY KEY,
        status TEXT NOT NULL,                               -- read | failed
        engine TEXT NOT NULL,
        reading TEXT NOT NULL,                              -- JSON: text lines and image signals
        read_at TEXT NOT NULL
    );
    CREATE TABLE auto_checks (
        case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        field_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        PRIMARY KEY (case_id, kind, field_id)
    )
    """,
    # 5: the last JSON blobs of settings get tables: the case in focus (one row), the files undo put
    # back into the inbox (held until they change), the inbox files a seller declined for a case,
    # and the (case, level) notifications already sent. Existing blob values move over.
    """
    CREATE TABLE focus (
        id INTEGER PRIMARY KEY CHECK (id = 1),              -- at most one case is in focus
        case_id INTEGER NOT NULL,
        at TEXT NOT NULL,                                   -- last renewal
        since TEXT NOT NULL,                                -- when this look at the case began
        ended_at TEXT                                       -- the case's tab closed
    );
    -- Every blob is read through CASE guards: a value that is not what it should be is skipped,
    -- never an error (a failing migration would leave the helper without its database).
    INSERT OR IGNORE INTO focus (id, case_id, at, since, ended_at)
        SELECT 1, json_extract(v, '$.case_id'), json_extract(v, '$.at'),
               COALESCE(json_extract(v, '$.since'), json_extract(v, '$.at')), json_extract(v, '$.ended_at')
        FROM (SELECT CASE WHEN json_valid(value) AND json_type(value) = 'object' THEN value ELSE '{}' END AS v
              FROM settings WHERE key = 'focus')
        WHERE json_type(v, '$.case_id') = 'integer' AND json_type(v, '$.at') = 'text';
    DELETE FROM settings WHERE key = 'focus';
    CREATE TABLE held_files (
        path TEXT PRIMARY KEY,                              -- absolute, as the watcher reports it
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO held_files (path, size, mtime_ns)
        SELECT json_extract(m, '$[0]'), json_extract(m, '$[1]'), json_extract(m, '$[2]')
        FROM (SELECT CASE WHEN j.type = 'array' THEN j.value ELSE '[]' END AS m
              FROM settings s, json_each(CASE WHEN json_valid(s.value) THEN s.value ELSE '[]' END) j
              WHERE s.key = 'evidence.held')
        WHERE json_type(m, '$[0]') = 'text' AND json_type(m, '$[1]') = 'integer' AND json_type(m, '$[2]') = 'integer';
    DELETE FROM settings WHERE key = 'evidence.held';
    CREATE TABLE declined_offers (
        case_id INTEGER NOT NULL,
        path TEXT NOT NULL,                                 -- relative to the evidence root
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        PRIMARY KEY (case_id, path, size, mtime_ns)
    );
    INSERT OR IGNORE INTO declined_offers (case_id, path, size, mtime_ns)
        SELECT case_id, json_extract(m, '$[0]'), json_extract(m, '$[1]'), json_extract(m, '$[2]')
        FROM (SELECT CAST(c.key AS INTEGER) AS case_id, CASE WHEN f.type = 'array' THEN f.value ELSE '[]' END AS m
              FROM settings s, json_each(CASE WHEN json_valid(s.value) THEN s.value ELSE '{}' END) c,
                   json_each(CASE WHEN c.type = 'array' THEN c.value ELSE '[]' END) f
              WHERE s.key = 'evidence.offer_declined')
        WHERE json_type(m, '$[0]') = 'text' AND json_type(m, '$[1]') = 'integer' AND json_type(m, '$[2]') = 'integer';
    DELETE FROM settings WHERE key = 'evidence.offer_declined';
    CREATE TABLE notified_levels (
        case_id INTEGER NOT NULL,
        level TEXT NOT NULL,
        PRIMARY KEY (case_id, level)
    );
    INSERT OR IGNORE INTO notified_levels (case_id, level)
        SELECT CAST(c.key AS INTEGER), l.value
        FROM settings s, json_each(CASE WHEN json_valid(s.value) THEN s.value ELSE '{}' END) c,
             json_each(CASE WHEN c.type = 'array' THEN c.value ELSE '[]' END) l
        WHERE s.key = 'notified_levels' AND l.type = 'text';
    DELETE FROM settings WHERE key = 'notified_levels'
    """,
    # 6: links (symlinks, Windows reparse points and .lnk shortcuts) found in order folders. They are
    # never evidence: never hashed, moved or attached, never tick a checklist item; the case view lists
    # them so the seller knows the helper did not read them. (IF NOT EXISTS: harmless whatever
    # ran before.)
    """
    CREATE TABLE IF NOT EXISTS evidence_links (
        path TEXT PRIMARY KEY,                              -- relative to the evidence root, '/' separated
        platform TEXT NOT NULL,
        order_id TEXT NOT NULL,
        kind TEXT,                                          -- the kind folder it sits in; NULL: 待分类
        seen_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS evidence_links_order ON evidence_links (platform, order_id)
    """,
    # 7: who the parcel went to and when, as the after-sale page shows them (names and phones often
    # masked: 张**、138****5678), so a proof that shows them can tick its field checks.
    """
    ALTER TABLE cases ADD COLUMN recipient_name TEXT;
    ALTER TABLE cases ADD COLUMN recipient_phone TEXT;
    ALTER TABLE cases ADD COLUMN signed_at TEXT;
    ALTER TABLE cases ADD COLUMN shipped_at TEXT
    """,
    # 8: the four lists still kept as blobs in settings get tables: the paired browsers, the extension
    # ids the seller allowed, the notes on files set aside as duplicates, and the undo journal. Existing
    # values move over; as in 5, a value that is not what it should be is skipped, never an error.
    """
    CREATE TABLE paired_browsers (
        id TEXT PRIMARY KEY,                                -- the nonce in the browser's token (not the token)
        name TEXT NOT NULL,
        origin TEXT NOT NULL,
        paired_at TEXT NOT NULL
    );
    INSERT OR IGNORE INTO paired_browsers (id, name, origin, paired_at)
        SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.name'), json_extract(j.value, '$.origin'),
               json_extract(j.value, '$.paired_at')
        FROM settings s, json_each(CASE WHEN json_valid(s.value) AND json_type(s.value) = 'array' THEN s.value ELSE '[]' END) j
        WHERE s.key = 'paired_browsers' AND j.type = 'object' AND json_type(j.value, '$.id') = 'text'
          AND json_type(j.value, '$.name') = 'text' AND json_type(j.value, '$.origin') = 'text'
          AND json_type(j.value, '$.paired_at') = 'text';
    -- A list that was ever written (even a damaged one) ends the adoption of tokens issued before
    -- the list existed: an empty table alone cannot tell "never written" from "everyone revoked".
    INSERT OR REPLACE INTO settings (key, value)
        SELECT 'pairing.browsers_listed', '1' FROM settings WHERE key = 'paired_browsers';
    DELETE FROM settings WHERE key = 'paired_browsers';
    CREATE TABLE allowed_extensions (
        id TEXT PRIMARY KEY                                 -- an extension id the seller allowed to ask for pairing
    );
    -- The old value was the ids joined by commas, in the order the seller allowed them.
    INSERT OR IGNORE INTO allowed_extensions (id)
        WITH RECURSIVE part(n, id, rest) AS (
            SELECT 0, '', value || ',' FROM settings WHERE key = 'allowed_extensions'
            UNION ALL
            SELECT n + 1, trim(substr(rest, 1, instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1)
            FROM part WHERE rest <> ''
        )
        SELECT id FROM part WHERE id <> '' ORDER BY n;
    DELETE FROM settings WHERE key = 'allowed_extensions';
    CREATE TABLE duplicate_notes (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        order_id TEXT NOT NULL,
        path TEXT NOT NULL,                                 -- where the file is now (under .重复/), relative to the root
        same_as TEXT NOT NULL,                              -- the order's file with the same bytes
        at TEXT NOT NULL
    );
    CREATE INDEX duplicate_notes_order ON duplicate_notes (platform, order_id);
    INSERT INTO duplicate_notes (platform, order_id, path, same_as, at)
        SELECT json_extract(j.value, '$.platform'), json_extract(j.value, '$.order_id'), json_extract(j.value, '$.path'),
               json_extract(j.value, '$.same_as'), json_extract(j.value, '$.at')
        FROM settings s, json_each(CASE WHEN json_valid(s.value) AND json_type(s.value) = 'array' THEN s.value ELSE '[]' END) j
        WHERE s.key = 'evidence.duplicates' AND j.type = 'object' AND json_type(j.value, '$.platform') = 'text'
          AND json_type(j.value, '$.order_id') = 'text' AND json_type(j.value, '$.path') = 'text'
          AND json_type(j.value, '$.same_as') = 'text' AND json_type(j.value, '$.at') = 'text'
        ORDER BY j.key;
    DELETE FROM settings WHERE key = 'evidence.duplicates';
    CREATE TABLE undo_intents (
        move_id INTEGER PRIMARY KEY,                        -- the original move being undone
        batch TEXT NOT NULL                                 -- the batch of the undo's move back into the inbox
    );
    INSERT OR IGNORE INTO undo_intents (move_id, batch)
        SELECT json_extract(j.value, '$.move'), json_extract(j.value, '$.batch')
        FROM settings s, json_each(CASE WHEN json_valid(s.value) AND json_type(s.value) = 'array' THEN s.value ELSE '[]' END) j
        WHERE s.key = 'evidence.undo_journal' AND j.type = 'object' AND json_type(j.value, '$.move') = 'integer'
          AND json_type(j.value, '$.batch') = 'text';
    DELETE FROM settings WHERE key = 'evidence.undo_journal'
    """,
    # 9: the sha256 lookup covers hashed files only. Files indexed by hand have no hash until one
    # is needed, so a first index of 100k files no longer builds an index of 100k NULLs, and
    # `sha256 = ?` (the only lookup by it) still uses it.
    """
    DROP INDEX IF EXISTS evidence_sha;
    CREATE INDEX evidence_sha ON evidence (sha256) WHERE sha256 IS NOT NULL
    """,
]
