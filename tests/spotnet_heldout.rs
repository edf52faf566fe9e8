#![allow(clippy::unwrap_used)]
//! The shipped spot network on the real image it was not trained on (Ge_blanc, MarCCD; the network saw the five
//! other real images of `../shared/data/real` and synthetic spots): the targets, from the paper's results on unseen real data —
//! for good spots a position error ≤ 0.044 px and a Sim MAE ≤ 0.05, and at most 1.3 % of the spots bad but
//! predicted good. Test set as in `lauekit train-spotnet`: the image's peaks at half its `peaksearch.json`
//! threshold with no fit rejection, with the peaks at its own threshold (1123 spots, 74 good by our α·g + β fit; 1155 before the peak fit
//! followed LaueTools' early stop, docs/peak-fit.md, which changes which close spots survive the duplicate purge).

use std::path::Path;

use lauekit::io::{ReadOptions, read_image};
use lauekit::peaks::PeakSearchParams;
use lauekit::spotnet::GoodSpotCriteria;
use lauekit::spotnet::train::{metrics, predict_samples, search_samples};

#[test]
fn shipped_network_meets_the_paper_on_the_held_out_image() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real/Ge_blanc");
    let image = dir.join("Ge_blanc_0000.mccd");
    let frame =
        read_image(&std::fs::read(&image).unwrap(), &image.display().to_string(), &ReadOptions::default())
            .unwrap();
    let pfile = dir.join("peaksearch.json");
    let p =
        PeakSearchParams::from_json(&std::fs::read_to_string(&pfile).unwrap(), "peaksearch.json").unwrap();
    let test = search_samples(&frame, &p, 0.5).unwrap();
    let device = lauekit::device::cpu().device;
    let net = lauekit::spotnet::embedded_spotnet(&device).unwrap();
    let out = predict_samples(&net, &test, &device);
    let m = metrics(&test, &out, &GoodSpotCriteria::default());
    println!("{m:?}");
    assert_eq!((m.n_spots, m.n_good), (1123, 74), "the test set itself changed");
    assert!(m.pos_error_px <= 0.044, "position error {:.4} px > 0.044", m.pos_error_px);
    assert!(m.mae_sim <= 0.05, "Sim MAE {:.4} > 0.05", m.mae_sim);
    assert!(
        m.bad_predicted_good() <= 0.013,
        "bad predicted good {:.2} % > 1.3 %",
        100.0 * m.bad_predicted_good()
    );
    assert!(
        m.good_predicted_bad() <= 0.021,
        "good predicted bad {:.2} % > 2.1 %",
        100.0 * m.good_predicted_bad()
    );
    assert!(m.r2_pos >= 0.973, "R² of the position {:.4} < the paper's 0.973", m.r2_pos);
}
