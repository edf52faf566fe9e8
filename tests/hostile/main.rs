//! Hostile input, table-driven: every reproduction of issue 18 (and the cases found since) runs the real
//! `lauekit` binary under a 2 GB address-space limit and a 60 s wall-clock limit, and must end with the
//! expected exit code and message, no panic, and every input file unchanged. Each module holds one area's table.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod errors;
mod fuzz_regressions;
mod limits;
mod output;
mod readers;
