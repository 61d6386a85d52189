//! Two stores on one PostgreSQL database, as two processes would have
//! them: what one's writer commits reaches the other's subscribers (and its
//! own exactly once); a listening connection that drops catches up on what
//! was stored meanwhile.

use std::time::{Duration, Instant};

use earshot_core::{AuthRecord, NewRequest, Outcome, TokenCheck};
use earshot_core::{Event, Job, Store, StoreUrl};
use tokio::sync::broadcast;

mod common;

use common::postgres::PgServer;

fn logged(path: &str) -> Job {
    let request = NewRequest {
        received_at: "2026-12-01T00:00:00.000Z".into(),
        method: "POST".into(),
        path: path.into(),
        query: None,
        remote_addr: None,
        headers_json: "[]".into(),
        status: 400,
        outcome: Outcome::Rejected,
        error_code: Some("test".into()),
        reason: None,
        session_id: Some("call-live".into()),
        recording_id: None,
        auth: AuthRecord { verdict: TokenCheck::Off, reason: None, jwt_header: None, jwt_claims: None },
        parts_json: None,
        body_size: 0,
        body: None,
        body_audio_at: None,
        simulated: None,
    };
    Job::LogRequest { request }
}

/// The events `rx` receives within `wait`.
async fn drain(rx: &mut broadcast::Receiver<Event>, wait: Duration) -> Vec<Event> {
    let deadline = Instant::now() + wait;
    let mut seen = Vec::new();
    while let Ok(Ok(event)) = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), rx.recv()).await
    {
        seen.push(event);
    }
    seen
}

fn logged_ids(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .filter_map(|e| if let Event::RequestLogged { request_id, .. } = e { Some(*request_id) } else { None })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_committed_by_one_store_reaches_the_others_subscribers_once_and_after_a_reconnect() {
    let Some(pg) = PgServer::start() else { return };
    let url = StoreUrl::Postgres(pg.database());
    let a = Store::open_url(&url).unwrap();
    let b = Store::open_url(&url).unwrap();
    let (mut at_a, mut at_b) = (a.subscribe(), b.subscribe());
    // Both listening connections are up before anything is written.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let first = a.writer().unwrap().submit(logged("/one"), Instant::now()).await.unwrap().logged().unwrap();
    assert_eq!(
        logged_ids(&drain(&mut at_b, Duration::from_secs(2)).await),
        vec![first.request_id],
        "b hears a's write"
    );
    assert_eq!(
        logged_ids(&drain(&mut at_a, Duration::from_millis(500)).await),
        vec![first.request_id],
        "a hears it once"
    );

    // b's listening connection drops; a writes before b is back.
    let name = PgServer::name_of(match &url {
        StoreUrl::Postgres(u) => u,
        StoreUrl::Sqlite(_) => unreachable!(),
    });
    let killed = pg.psql(
        name,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'earshot-listen'",
    );
    assert_eq!(killed.trim(), "2", "both stores' listening connections were found");
    let missed = a.writer().unwrap().submit(logged("/two"), Instant::now()).await.unwrap().logged().unwrap();
    let after = drain(&mut at_b, Duration::from_secs(3)).await;
    assert!(logged_ids(&after).contains(&missed.request_id), "b caught up on what it missed: {after:?}");
    assert!(after.contains(&Event::Removed { removed: Default::default() }), "b was told to refresh: {after:?}");

    let third = b.writer().unwrap().submit(logged("/three"), Instant::now()).await.unwrap().logged().unwrap();
    assert!(logged_ids(&drain(&mut at_a, Duration::from_secs(2)).await).contains(&third.request_id), "and live again");
}

/// Regression: the calls list failed on PostgreSQL with "could not determine
/// data type of parameter $1" (a filter parameter seen only by `IS NULL`).
#[test]
fn every_list_filter_is_a_query_postgresql_accepts() {
    use earshot_core::{Filter, VerdictFilter};
    let Some(pg) = PgServer::shared() else { return };
    let store = Store::open_url(&StoreUrl::Postgres(pg.database())).unwrap();
    let empty = Filter::default();
    let all = Filter {
        id_prefix: Some("call".into()),
        from: Some("2026-01-01".into()),
        to: Some("2026-12-31".into()),
        verdict: Some(VerdictFilter::Invalid),
    };
    let flagged = Filter { verdict: Some(VerdictFilter::Flagged), ..Filter::default() };
    for filter in [&empty, &all, &flagged] {
        assert_eq!(store.sessions_page(filter, 0, 50).unwrap().total, 0, "{filter:?}");
        assert_eq!(store.requests_page(filter, 0, 50).unwrap().total, 0, "{filter:?}");
        assert_eq!(store.sessions_page(filter, 10, 50).unwrap().total, 0, "{filter:?}");
    }
}

/// Two writers' transactions caught in a deadlock: the writer's group holds
/// one review and waits for another that a second client holds, while that
/// client waits for the first. PostgreSQL aborts the writer's statement; the
/// writer rolls its whole group back (freeing the other client) and runs it
/// again, so every job of the group commits. Retrying only the statement
/// kept the first review's lock and deadlocked again until the job failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_caught_in_a_deadlock_runs_again_as_a_whole_and_every_job_commits() {
    use std::io::Write;

    use earshot_core::{Committed, ReviewChange};

    let Some(pg) = PgServer::start() else { return };
    let url = pg.database();
    let name = PgServer::name_of(&url).to_string();
    // The writer's connections look for a deadlock 3 s into a wait, so a busy machine has time to set one up.
    pg.psql(&name, &format!("ALTER DATABASE {name} SET deadlock_timeout = '3s'"));
    let store = Store::open_url(&StoreUrl::Postgres(url.clone())).unwrap();
    let webhook = common::serve(&store, earshot_core::system_clock()).await;
    let mut rows = Vec::new();
    for (i, id) in ["gate", "first", "second"].into_iter().enumerate() {
        let audio: Vec<u8> = (0..4000).map(|n| ((n * (i + 3)) % 251) as u8).collect();
        common::send(&webhook, "call-lock", id, &audio, "2026-11-01T09:00:00.000Z", "2026-11-01T09:00:01.000Z").await;
        rows.push(store.find_recording(id, None).unwrap().row);
    }
    let (gate, first, second) = (rows[0], rows[1], rows[2]);
    let tag = |t: &str| ReviewChange { add_tags: vec![t.into()], ..ReviewChange::default() };
    let review = |row: i64, change: ReviewChange| {
        let writer = store.writer().unwrap();
        tokio::spawn(async move {
            writer.submit(Job::Review { row, change, now: "2026-11-01T10:00:00.000Z".into() }, Instant::now()).await
        })
    };
    for row in [gate, first, second] {
        assert!(matches!(review(row, tag("start")).await.unwrap(), Ok(Committed::Reviewed(_))));
    }
    let psql = |sql: &str| pg.psql(&name, sql).trim().to_string();
    let wait_for = |what: &str, sql: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while psql(sql) != "t" {
            assert!(Instant::now() < deadline, "waited 30 s for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let blocked_by = |app: &str| {
        format!(
            "SELECT count(*) = 1 FROM pg_stat_activity WHERE (SELECT pid FROM pg_stat_activity WHERE application_name = '{app}') = ANY(pg_blocking_pids(pid))"
        )
    };
    let run = |session: &mut std::process::Child, sql: &str| {
        writeln!(session.stdin.as_mut().unwrap(), "{sql}").unwrap();
    };

    // The gate holds the writer while the two reviews queue up behind it, so they are one group.
    let mut gatekeeper = pg.session(&name, "gatekeeper");
    run(&mut gatekeeper, &format!("BEGIN; SELECT 1 FROM reviews WHERE recording_row = {gate} FOR UPDATE;"));
    // The holder never detects the deadlock itself (its timeout is long), so the writer is the one aborted.
    let mut holder = pg.session(&name, "holder");
    run(
        &mut holder,
        &format!(
            "BEGIN; SET LOCAL deadlock_timeout = '60s'; SELECT 1 FROM reviews WHERE recording_row = {second} FOR UPDATE;"
        ),
    );
    let idle = |apps: &str, n: usize| {
        format!(
            "SELECT count(*) = {n} FROM pg_stat_activity WHERE application_name IN ({apps}) AND state = 'idle in transaction'"
        )
    };
    wait_for("both sessions to hold their rows", &idle("'gatekeeper', 'holder'", 2));
    let gated = review(gate, tag("gate"));
    wait_for("the writer to wait at the gate", &blocked_by("gatekeeper"));
    let one = review(first, tag("one"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let two = review(second, tag("two"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    run(&mut gatekeeper, "COMMIT;");
    // The writer's group [first, second] has locked `first` and waits for `second`.
    wait_for("the writer to wait for the holder", &blocked_by("holder"));
    run(&mut holder, &format!("UPDATE reviews SET note = 'held' WHERE recording_row = {first};"));
    wait_for(
        "the holder to wait for the writer",
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'holder' AND wait_event_type = 'Lock'",
    );
    // The writer detects the deadlock and rolls its group back, which lets the holder's update through.
    wait_for("the holder's update to go through", &idle("'holder'", 1));
    run(&mut holder, "COMMIT;");
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success(), "the holder's transaction committed");
    drop(gatekeeper.stdin.take());
    assert!(gatekeeper.wait().unwrap().success());

    for (what, job) in [("gate", gated), ("first", one), ("second", two)] {
        let done = tokio::time::timeout(Duration::from_secs(20), job).await.expect("answered within 20 s").unwrap();
        assert!(matches!(done, Ok(Committed::Reviewed(_))), "the {what} review committed: {done:?}");
    }
    let deadlocks = psql(&format!("SELECT deadlocks FROM pg_stat_database WHERE datname = '{name}'"));
    assert!(deadlocks.parse::<u32>().unwrap() >= 1, "the deadlock happened (pg_stat_database.deadlocks = {deadlocks})");
    let first_review = store.find_recording("first", None).unwrap().review;
    assert_eq!(first_review.note, "held", "the other client's change stands");
    assert_eq!(first_review.tags, ["one", "start"], "and the writer's, applied after it");
    assert_eq!(store.find_recording("second", None).unwrap().review.tags, ["start", "two"]);
}
