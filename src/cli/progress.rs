//! Progress bars on stderr, drawn for the library's `Progress` events.
//! They draw only when stderr is a terminal and `MOTIF_NO_PROGRESS` is
//! unset, so pipes, CI logs and tests stay clean; results go to stdout.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn target() -> ProgressDrawTarget {
    if std::env::var_os("MOTIF_NO_PROGRESS").is_some() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// A bar counting items (passages, pairs), with a rate.
pub fn items_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    let template =
        if total == 0 { "{msg:>10} {pos} {per_sec}" } else { "{msg:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}" };
    bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
    bar.set_message(what.to_string());
    bar
}

/// A bar counting bytes of a download.
pub fn bytes_bar(total: Option<u64>, what: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, target());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}

/// One bar per stage of the library's work.
#[derive(Default)]
pub struct Bars {
    bar: Option<ProgressBar>,
}

impl Bars {
    pub fn new() -> Self {
        Bars::default()
    }
}

impl motif::pipeline::Progress for Bars {
    fn begin(&mut self, stage: &str, total: usize) {
        self.bar = Some(items_bar(total as u64, stage));
    }

    fn advance(&mut self, n: usize) {
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
    }

    fn end(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
