//! Quality on labelled data, through the same code the commands use:
//! sentence-pair similarity (STS-B), the overlap decision (MRPC,
//! calibration), text reuse, and themes against topic labels.

pub mod clusters;
pub mod pairs;
