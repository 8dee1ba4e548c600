//! Live progress. On a terminal, indicatif bars (the run and the current phase: done/total,
//! rate, ETA, failures, and what is waited on); otherwise plain lines, with no escape codes, at
//! least every two seconds while the run goes on: a heartbeat that says how many jobs are
//! waited on, in which states, and for how long, so a wait of minutes is never silent.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use crate::exec::census::{Census, Snapshot};
use crate::exec::steer::Steer;
use crate::exec::{Event, Outcome};

/// How often plain progress lines are printed: with the display's clock ticking every
/// [`TICK`], no two lines are more than two seconds apart.
const PLAIN_EVERY: Duration = Duration::from_millis(1500);
const TICK: Duration = Duration::from_millis(250);

/// The most events taken at once, and the rest after each batch.
const BATCH: usize = 4096;
const REST: Duration = Duration::from_millis(20);

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Live bars for the run and the phase, on a terminal.
    Bars,
    /// A plain line every two seconds and at each phase and halt, for logs.
    Lines,
    /// Nothing (`--no-progress`).
    Quiet,
}

impl Style {
    /// Bars on a terminal that can draw them, lines elsewhere (also under `TERM=dumb`, where
    /// indicatif would draw nothing at all), nothing with `--no-progress`.
    pub fn choose(no_progress: bool) -> Self {
        let term = std::env::var("TERM").unwrap_or_default();
        let draws = std::io::stderr().is_terminal() && !term.is_empty() && term != "dumb";
        match (no_progress, draws) {
            (true, _) => Style::Quiet,
            (false, true) => Style::Bars,
            (false, false) => Style::Lines,
        }
    }
}

/// How often a plain line repeats, while the run waits at a gate, how to let it go on.
const GATE_EVERY: Duration = Duration::from_secs(30);

/// What the display says of a run steered from outside: how to let a waiting gate pass (or
/// held stops start), and the run's steering (held, draining).
pub struct Steering {
    /// `stopbook ctl go --journal J`, or how else.
    pub go_hint: String,
    /// The run's steering, read on the display's clock.
    pub steer: Arc<Steer>,
}

/// Consumes run events until the run ends.
pub async fn show(style: Style, mut events: mpsc::UnboundedReceiver<Event>, steering: Steering) {
    let mut screen = Screen {
        style,
        state: State {
            go_hint: steering.go_hint,
            steer: Some(steering.steer),
            ..State::default()
        },
        bars: (style == Style::Bars).then(Bars::new),
        last_line: Instant::now(),
        census: None,
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Events are taken a batch at a time with a short rest between, so a fast run wakes this
    // task a few dozen times a second, not once per stop; the clock beats between them.
    loop {
        tokio::select! {
            taken = events.recv_many(&mut batch, BATCH) => {
                if taken == 0 {
                    break;
                }
                for event in batch.drain(..) {
                    screen.show(event);
                }
                tokio::time::sleep(REST).await;
            }
            _ = tick.tick() => screen.beat(),
        }
    }
    if let Some(b) = screen.bars {
        // Not `finish`, which would fill the bar: it stays where the run got to, with the
        // counts the closing summary gives.
        let s = &screen.state;
        b.all
            .abandon_with_message(format!("{} failed, {} skipped", s.failed, s.skipped));
        b.phase.finish_and_clear();
    }
}

/// What is shown, and where.
struct Screen {
    style: Style,
    state: State,
    bars: Option<Bars>,
    /// When the last plain line was printed.
    last_line: Instant,
    /// The jobs the run waits on, once it has started.
    census: Option<Arc<Census>>,
}

impl Screen {
    /// The display's clock: a plain line when none was printed for a while, and the census
    /// on the bars.
    fn beat(&mut self) {
        let Some(census) = &self.census else {
            return;
        };
        let snapshot = census.snapshot();
        if let Some(b) = &self.bars {
            b.all
                .set_message(self.state.message() + &census_text(&snapshot));
        }
        // Nothing moves while a gate waits, or while new stops are held and none is waited on.
        let held = self.state.steering().held.is_some() && snapshot.waiting == 0;
        let every = match self.state.gate.is_some() || held {
            true => GATE_EVERY,
            false => PLAIN_EVERY,
        };
        if self.style == Style::Lines && self.last_line.elapsed() >= every {
            self.print_line();
        }
    }

    fn print_line(&mut self) {
        self.last_line = Instant::now();
        let census = self.census.as_ref().map(|c| census_text(&c.snapshot()));
        say!("{}{}", self.state.line(), census.unwrap_or_default());
    }

    /// A gate waits (said with how to let it pass), or was let pass.
    fn show_gate(&mut self, event: Event) {
        let lines = self.style == Style::Lines;
        let Screen { state, bars, .. } = self;
        match event {
            Event::GateWaiting { phase } => {
                state.gate = Some(phase);
                if let Some(b) = bars {
                    b.all.set_message(state.message());
                }
                if lines {
                    self.print_line();
                }
            }
            Event::GatePassed { phase, by } => {
                state.gate = None;
                if lines {
                    say!("gate: phase {phase} let go on by {by}");
                } else if let Some(b) = bars {
                    b.all.set_message(state.message());
                }
            }
            _ => {}
        }
    }

    fn show(&mut self, event: Event) {
        let lines = self.style == Style::Lines;
        let Screen {
            state,
            bars,
            last_line,
            census,
            ..
        } = self;
        match event {
            Event::Started { total, census: c } => {
                *census = Some(c);
                state.total = total;
                state.started = Some(Instant::now());
                if let Some(b) = bars {
                    b.all.set_length(total as u64);
                    b.all.set_message("0 failed");
                }
            }
            Event::PhaseStarted { name, stops, .. } => {
                state.phase = name.clone();
                state.phase_total = stops;
                state.phase_done = 0;
                if let Some(b) = bars {
                    b.phase.set_length(stops as u64);
                    b.phase.set_position(0);
                    b.phase.set_prefix(name.clone());
                    b.phase.reset_eta();
                    // The run's ETA from here on, not from a canary's minutes of waiting.
                    b.all.reset_eta();
                }
                if lines {
                    say!("phase {name}: {stops} stop{}", plural(stops));
                }
            }
            // A stop skipped by an interrupt or a halt is not done: the bar stays where the
            // run really got to.
            Event::Finished {
                outcome: Outcome::Skipped,
                ..
            } => state.skipped += 1,
            Event::Finished { outcome, .. } => {
                state.done += 1;
                state.phase_done += 1;
                let failed = outcome == Outcome::Failed;
                if failed {
                    state.failed += 1;
                }
                if let Some(b) = bars {
                    b.all.inc(1);
                    b.phase.inc(1);
                    if failed {
                        b.all.set_message(state.message());
                    }
                }
                if lines && (last_line.elapsed() >= PLAIN_EVERY || state.done == state.total) {
                    self.print_line();
                }
            }
            Event::Throttled { count, rate } => {
                state.throttled = count;
                state.adapted = rate;
                if let Some(b) = bars {
                    b.all.set_message(state.message());
                }
            }
            gate @ (Event::GateWaiting { .. } | Event::GatePassed { .. }) => self.show_gate(gate),
            Event::PhaseDone { .. } | Event::Journaled(_) => {}
            // The reason is the closing summary's to give (once): here, only where the run got.
            Event::Halted => {
                if lines {
                    self.print_line();
                }
            }
        }
    }
}

#[derive(Default)]
struct State {
    total: usize,
    done: usize,
    failed: usize,
    skipped: usize,
    phase: String,
    phase_total: usize,
    phase_done: usize,
    started: Option<Instant>,
    /// 429 answers so far, and the rate the run adapted to.
    throttled: u64,
    adapted: Option<f64>,
    /// The phase waiting at its gate, while one waits.
    gate: Option<String>,
    /// How to let a gate pass.
    go_hint: String,
    /// The run's steering.
    steer: Option<Arc<Steer>>,
}

impl State {
    /// The bar's message: failures, and 429s with the adapted rate once there are any.
    fn message(&self) -> String {
        format!(
            "{} failed{}{}",
            self.failed,
            self.throttled_text(),
            self.gate_text()
        )
    }

    fn steering(&self) -> crate::exec::steer::State {
        self.steer.as_ref().map(|s| s.state()).unwrap_or_default()
    }

    /// `; waiting at the gate before phase bulk: …` while a gate waits, what `ctl pause` or
    /// `ctl drain` did, else nothing.
    fn gate_text(&self) -> String {
        let steering = self.steering();
        if let Some(phase) = &self.gate {
            return format!(
                "; waiting at the gate before phase {phase}: {}",
                self.go_hint
            );
        }
        match (&steering.drained, &steering.held) {
            (Some(by), _) => format!("; draining (ctl drain by {by}): no new stop starts"),
            (None, Some(by)) => format!("; paused by {by}: new stops held until {}", self.go_hint),
            (None, None) => String::new(),
        }
    }

    /// `; 12 answers 429, adapted to 41/s` once the gateway throttled, else nothing.
    fn throttled_text(&self) -> String {
        match (self.throttled, self.adapted) {
            (0, _) => String::new(),
            (n, Some(r)) => format!("; {n} answered 429, adapted to {}", rate_text(r)),
            (n, None) => format!("; {n} answered 429"),
        }
    }

    fn line(&mut self) -> String {
        let started = *self.started.get_or_insert_with(Instant::now);
        let elapsed = started.elapsed();
        let rate = self.done as f64 / elapsed.as_secs_f64().max(0.001);
        format!(
            "progress: {}/{} stops done, {} failed, {} skipped; phase {} {}/{}; {}; {} elapsed",
            self.done,
            self.total,
            self.failed,
            self.skipped,
            self.phase,
            self.phase_done,
            self.phase_total,
            rate_text(rate),
            elapsed_text(elapsed),
        ) + &self.throttled_text()
            + &self.gate_text()
    }
}

/// `; waiting on 12: 9 RELEASE_RESOURCE_STARTED, 3 INCRE_TRANSFER_STARTED; oldest 1m40s`, or
/// nothing when no job is waited on.
pub fn census_text(s: &Snapshot) -> String {
    if s.waiting == 0 {
        return String::new();
    }
    let mut each: Vec<String> = s
        .by_status
        .iter()
        .map(|(status, n)| format!("{n} {}", status.as_deref().unwrap_or("not read yet")))
        .collect();
    if s.in_doubt > 0 {
        each.push(format!(
            "{} in doubt (answer lost, status read)",
            s.in_doubt
        ));
    }
    format!(
        "; waiting on {}: {}; oldest {}",
        s.waiting,
        each.join(", "),
        elapsed_text(s.oldest)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A rate a person reads at a glance: `1200/s`, `12/s`, `2.5/s`, `27/min` (never `0.4486/s`).
pub fn rate_text(per_second: f64) -> String {
    match per_second {
        r if r >= 10.0 => format!("{r:.0}/s"),
        r if r >= 1.0 => format!("{r:.1}/s"),
        r => format!("{:.0}/min", r * 60.0),
    }
}

/// Elapsed time as `45s`, `12m05s` or `2h03m`.
pub fn elapsed_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

struct Bars {
    all: ProgressBar,
    phase: ProgressBar,
    _multi: MultiProgress,
}

impl Bars {
    fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = |template: &str| {
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&rate_text(s.per_sec()));
                    },
                )
        };
        let all = multi.add(ProgressBar::new(0));
        all.set_style(style(
            "run    [{bar:30}] {pos}/{len} {rate} {elapsed} eta {eta} {msg}",
        ));
        let phase = multi.add(ProgressBar::new(0));
        phase.set_style(style("{prefix:6} [{bar:30}] {pos}/{len} {rate} eta {eta}"));
        Bars {
            all,
            phase,
            _multi: multi,
        }
    }
}
