//! The event loop: terminal input, background answers, the clock and signals in one
//! `select!`; state changes only in `update`; frames drawn only when something changed, at
//! most ~15 a second; the terminal restored however the program ends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::TuiOptions;
use super::app::{Action, App, CopyOutcome, Effect, update};
use super::{clipboard, effects, view};
use crate::connect::{http, source_for};
use crate::engine::estimate::count_range;
use crate::engine::{preflight, triage, worker};
use crate::store::Store;

/// Shortest time between two frames (≈ 15 per second).
const FRAME: Duration = Duration::from_millis(66);
/// How long the planner waits after the last change before it counts.
const DEBOUNCE: Duration = Duration::from_millis(250);
const SPINNER: Duration = Duration::from_millis(125);
/// How often the live log and the inspector read the store.
const POLL: Duration = Duration::from_millis(500);

enum Exit {
    Normal,
    /// The terminal is gone: restoring it may fail, and that is fine.
    Hangup,
}

pub async fn run(opts: TuiOptions) -> anyhow::Result<()> {
    let _log = start_logging();
    let store = Store::open(&opts.db_path)?;
    let mut app = App::new(store, opts.config, Utc::now(), opts.note);
    app.config_path = opts.config_path;
    // Raw mode and the alternate screen, and a panic hook that restores both first.
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let result = event_loop(&mut terminal, &mut app).await;
    let restored = ratatui::try_restore();
    tracing::info!("terminal UI closed");
    match result {
        Ok(Exit::Hangup) => Ok(()),
        Ok(Exit::Normal) => restored.context("restoring the terminal"),
        Err(e) => Err(e),
    }
}

async fn event_loop(terminal: &mut DefaultTerminal, app: &mut App) -> anyhow::Result<Exit> {
    let size = terminal.size().context("reading the terminal size")?;
    app.size = (size.width, size.height);
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut events = EventStream::new();
    let mut hangup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut spinner = tokio::time::interval(SPINNER);
    spinner.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // A connection of its own for the effects, used on a blocking thread, so a slow read
    // never holds up a frame.
    let io_store = Arc::new(Mutex::new(Store::open(app.store.path())?));
    let client = http::client();
    let mut counting: Option<JoinHandle<()>> = None;
    let mut preflighting: Option<preflight::Cancel> = None;
    let mut last_frame: Option<Instant> = None;

    loop {
        // Coalesce: a burst of changes (typing, a resize storm) becomes one frame.
        let due = last_frame.is_none_or(|t| t.elapsed() >= FRAME);
        if app.dirty && due {
            terminal.draw(|frame| view::draw(app, frame)).context("drawing the screen")?;
            app.dirty = false;
            last_frame = Some(Instant::now());
        }
        let next_frame = app.dirty.then(|| last_frame.map_or_else(Instant::now, |t| t + FRAME));
        let frame_timer = async {
            match next_frame {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };

        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => match to_action(event) {
                    Some(action) => action,
                    None => continue,
                },
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "terminal input failed; quitting");
                    return Ok(Exit::Hangup);
                }
                None => return Ok(Exit::Hangup),
            },
            Some(action) = rx.recv() => action,
            _ = clock.tick() => Action::Tick(Utc::now()),
            _ = spinner.tick(), if app.is_loading() => Action::Spin,
            _ = poll.tick(), if app.follows_store() => Action::Poll(Utc::now()),
            _ = frame_timer => continue,
            _ = hangup.recv() => {
                // crossterm's reader spins once the terminal is gone: leave at once.
                tracing::info!("SIGHUP: the terminal went away");
                return Ok(Exit::Hangup);
            }
            _ = terminate.recv() => {
                tracing::info!("SIGTERM");
                Action::Quit
            }
        };

        let mut queue = VecDeque::from([action]);
        while let Some(action) = queue.pop_front() {
            for effect in update(app, action) {
                match effect {
                    Effect::CountRange { generation, customer_id, integration, range } => {
                        if let Some(previous) = counting.take() {
                            previous.abort();
                        }
                        tracing::debug!(generation, customer_id, %range.from, %range.to, "counting a range");
                        let tx = tx.clone();
                        let client = client.clone();
                        counting = Some(tokio::spawn(async move {
                            tokio::time::sleep(DEBOUNCE).await;
                            let result = match source_for(&integration, client) {
                                Ok(source) => count_range(source.as_ref(), &integration, range).await,
                                Err(e) => Err(e),
                            };
                            // The loop may have ended; then nobody needs the answer.
                            let _ = tx.send(Action::Counted { generation, result });
                        }));
                    }
                    Effect::CopyQuote { text, file_name } => {
                        let clipboard = clipboard::copy_osc52(terminal.backend_mut(), &text).map_err(|e| e.to_string());
                        let saved = match clipboard::quotes_dir() {
                            Some(dir) => clipboard::save_quote(&dir, &file_name, &text)
                                .map_err(|e| format!("cannot write {}: {e}", dir.join(&file_name).display())),
                            None => Err("no home directory to save quotes in".to_string()),
                        };
                        queue.push_back(Action::QuoteCopied(CopyOutcome { saved, clipboard }));
                    }
                    Effect::TestTransfer { job, order } => {
                        let (tx, client, config) = (tx.clone(), client.clone(), app.config.clone());
                        let db = app.store.path().to_path_buf();
                        tokio::spawn(async move {
                            let result = worker::test_transfer(&db, &config, job, order.as_deref(), client)
                                .await
                                .map_err(|e| e.to_string());
                            let _ = tx.send(Action::TestTransferred { job, result: Box::new(result) });
                        });
                    }
                    Effect::ImportOrder { customer, reference } => {
                        let (tx, client, config) = (tx.clone(), client.clone(), app.config.clone());
                        let db = app.store.path().to_path_buf();
                        tokio::spawn(async move {
                            let action = effects::import_order(&db, &config, customer, &reference, client).await;
                            let _ = tx.send(action);
                        });
                    }
                    Effect::Retry { job, selection } => {
                        let (tx, client, config) = (tx.clone(), client.clone(), app.config.clone());
                        let db = app.store.path().to_path_buf();
                        tokio::spawn(async move {
                            let result = triage::retry_orders(&db, &config, job, selection, client)
                                .await
                                .map_err(|e| e.to_string());
                            let _ = tx.send(Action::Retried(result));
                        });
                    }
                    Effect::Preflight { job } => {
                        let cancel = preflight::Cancel::new();
                        if let Some(previous) = preflighting.replace(cancel.clone()) {
                            previous.cancel();
                        }
                        let (tx, client, config) = (tx.clone(), client.clone(), app.config.clone());
                        let db = app.store.path().to_path_buf();
                        tokio::spawn(async move {
                            let progress_tx = tx.clone();
                            let mut last: Option<std::time::Instant> = None;
                            // At most ten reports a second: the screen cannot show more.
                            let report = move |p: &preflight::PreflightProgress| {
                                if last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                                    last = Some(std::time::Instant::now());
                                    let _ = progress_tx.send(Action::PreflightProgress { job, progress: *p });
                                }
                            };
                            let result = preflight::preflight(&db, &config, job, client, &cancel, report)
                                .await
                                .map_err(|e| e.to_string());
                            let _ = tx.send(Action::PreflightDone { job, result: Box::new(result) });
                        });
                    }
                    Effect::CancelPreflight => {
                        if let Some(cancel) = preflighting.take() {
                            cancel.cancel();
                        }
                    }
                    Effect::Quit => {}
                    store_effect => {
                        let (tx, store, config) = (tx.clone(), io_store.clone(), app.config.clone());
                        let config_path = app.config_path.clone();
                        tokio::task::spawn_blocking(move || {
                            let Ok(mut store) = store.lock() else {
                                tracing::error!("the UI's store connection was poisoned by a crashed read");
                                return;
                            };
                            if let Some(action) =
                                effects::perform(&mut store, &config, config_path.as_deref(), &store_effect)
                            {
                                let _ = tx.send(action);
                            }
                        });
                    }
                }
            }
        }
        if app.quit {
            if let Some(task) = counting.take() {
                task.abort();
            }
            if let Some(cancel) = preflighting.take() {
                cancel.cancel();
            }
            return Ok(Exit::Normal);
        }
    }
}

fn to_action(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(key)),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// Logs go to a file under the data directory, never to the terminal the UI owns.
/// `IMPORTDESK_LOG` sets the filter (default `info`).
fn start_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_appender::rolling::{RollingFileAppender, Rotation};
    if tracing::dispatcher::has_been_set() {
        return None;
    }
    let dir = directories::ProjectDirs::from("", "", "importdesk")?.data_dir().join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("tui")
        .filename_suffix("log")
        .max_log_files(14)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("IMPORTDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}
