"""SQLite schema as numbered migrations; ``PRAGMA user_version`` records how far a database is."""

from __future__ import annotations

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
]
