//! A scan's results as one HDF5 file (written and read with hdf5-pure, so natively and in the browser), laid
//! out as columns an independent reader (h5py, MATLAB) takes directly:
//!
//! - root attributes: `format` = "lauekit-scan", `format_version`, `software`, `nx`, `ny`, `snake` (0/1),
//!   `step_um` ([x, y] µm, or empty), `request` (the pipeline request as JSON), `shard` ([i, n] or empty)
//! - `points/`: one row per point, in acquisition order: `index`, `ix`, `iy` (u64), `image` (string),
//!   `status` (u8: 0 indexed, 1 not indexed, 2 no peaks, 3 peaks only, 4 failed; names in the attribute
//!   `status_names`), `error` (string, empty when none), `n_peaks` (u64), `intensity_sum`,
//!   `peaks_intensity` (counts), `n_grains` (u64), `elapsed_ms`
//! - `grains/`: one row per grain of any point: `point` (its point index), `rank` (0 = the main grain),
//!   `material`, `laue_group` (strings), `method` (u8: 0 lut, 1 nn, 2 guess: refined from the
//!   cluster's orientation, 3 delegate: the cluster delegate's orientation; names in `method_names`), `ub`, `b0` (n × 3 × 3, rows),
//!   `euler` (n × 3, deg), `matching_rate` (%), `n_indexed`, `n_simulated` (u64), `rms_px`,
//!   `strain_crystal`, `strain_sample` (n × 6: xx yy zz yz xz xy, dimensionless), `von_mises`,
//!   `stress_crystal`, `stress_sample` (n × 6, MPa, NaN without stiffness constants), `von_mises_stress` (MPa)

use hdf5_pure::{AttrValue, File, FileBuilder};

use super::clustering::{ClusterRecord, DelegateGrain, KScore};
use super::{PointResult, ScanGrid, ScanResults};
use crate::error::{LaueError, Result};
use crate::index::Method;
use crate::pipeline::{GrainReport, PointStatus, StrainReport, StressReport};

/// Format name in the root attribute `format`.
pub const FORMAT: &str = "lauekit-scan";
/// Version of this layout.
pub const FORMAT_VERSION: i64 = 1;

/// The HDF5 bytes of `results`; `shard` = Some((i, n)) for the i-th of n shards.
pub fn to_hdf5(results: &ScanResults, shard: Option<(usize, usize)>) -> Result<Vec<u8>> {
    to_hdf5_with_cluster(results, shard, None)
}

/// As [`to_hdf5`], with a clustering of the scan's points in the group `cluster/` (see
/// [`super::clustering`]); the record must cover every point of the grid.
pub fn to_hdf5_with_cluster(
    results: &ScanResults,
    shard: Option<(usize, usize)>,
    cluster: Option<&ClusterRecord>,
) -> Result<Vec<u8>> {
    let werr = |e: hdf5_pure::Error| LaueError::Write { file: "scan HDF5".into(), reason: e.to_string() };
    let request = serde_json::to_string(&results.request)
        .map_err(|e| LaueError::Write { file: "scan HDF5".into(), reason: e.to_string() })?;
    let mut b = FileBuilder::new();
    b.set_attr("format", AttrValue::String(FORMAT.into()));
    b.set_attr("format_version", AttrValue::I64(FORMAT_VERSION));
    b.set_attr("software", AttrValue::String(results.software.clone()));
    b.set_attr("nx", AttrValue::I64(results.grid.nx as i64));
    b.set_attr("ny", AttrValue::I64(results.grid.ny as i64));
    b.set_attr("snake", AttrValue::I64(i64::from(results.grid.snake)));
    b.set_attr("step_um", AttrValue::F64Array(results.grid.step_um.map_or(Vec::new(), |s| s.to_vec())));
    b.set_attr("request", AttrValue::String(request));
    b.set_attr("shard", AttrValue::I64Array(shard.map_or(Vec::new(), |(i, n)| vec![i as i64, n as i64])));

    let p = &results.points;
    let u64s = |f: &dyn Fn(&PointResult) -> usize| p.iter().map(|x| f(x) as u64).collect::<Vec<u64>>();
    let f64s = |f: &dyn Fn(&PointResult) -> f64| p.iter().map(f).collect::<Vec<f64>>();
    let mut g = b.create_group("points");
    g.set_attr(
        "status_names",
        AttrValue::StringArray(
            (0..=4).filter_map(PointStatus::from_code).map(|s| s.name().to_string()).collect(),
        ),
    );
    g.create_dataset("index").with_u64_data(&u64s(&|x| x.index));
    g.create_dataset("ix").with_u64_data(&u64s(&|x| x.ix));
    g.create_dataset("iy").with_u64_data(&u64s(&|x| x.iy));
    let images: Vec<&str> = p.iter().map(|x| x.image.as_str()).collect();
    g.create_dataset("image").with_vlen_strings(&images);
    g.create_dataset("status").with_u8_data(&p.iter().map(|x| x.status.code()).collect::<Vec<u8>>());
    let errors: Vec<&str> = p.iter().map(|x| x.error.as_deref().unwrap_or("")).collect();
    g.create_dataset("error").with_vlen_strings(&errors);
    g.create_dataset("n_peaks").with_u64_data(&u64s(&|x| x.n_peaks));
    g.create_dataset("intensity_sum").with_f64_data(&f64s(&|x| x.intensity_sum));
    g.create_dataset("peaks_intensity").with_f64_data(&f64s(&|x| x.peaks_intensity));
    g.create_dataset("n_grains").with_u64_data(&u64s(&|x| x.grains.len()));
    g.create_dataset("elapsed_ms").with_f64_data(&f64s(&|x| x.elapsed_ms));
    b.add_group(g.finish());

    let rows: Vec<(&PointResult, usize, &GrainReport)> =
        p.iter().flat_map(|x| x.grains.iter().enumerate().map(move |(k, g)| (x, k, g))).collect();
    let n = rows.len() as u64;
    let mut g = b.create_group("grains");
    g.create_dataset("point").with_u64_data(&rows.iter().map(|r| r.0.index as u64).collect::<Vec<_>>());
    g.create_dataset("rank").with_u64_data(&rows.iter().map(|r| r.1 as u64).collect::<Vec<_>>());
    let materials: Vec<&str> = rows.iter().map(|r| r.2.material.as_str()).collect();
    g.create_dataset("material").with_vlen_strings(&materials);
    let groups: Vec<&str> = rows.iter().map(|r| r.2.laue_group.as_str()).collect();
    g.create_dataset("laue_group").with_vlen_strings(&groups);
    g.set_attr(
        "method_names",
        AttrValue::StringArray((0..=3).filter_map(Method::from_code).map(|m| m.name().to_string()).collect()),
    );
    g.create_dataset("method").with_u8_data(&rows.iter().map(|r| r.2.method.code()).collect::<Vec<_>>());
    let flat9 = |f: &dyn Fn(&GrainReport) -> [[f64; 3]; 3]| {
        rows.iter().flat_map(|r| f(r.2).into_iter().flatten()).collect::<Vec<f64>>()
    };
    g.create_dataset("ub").with_f64_data(&flat9(&|g| g.ub)).with_shape(&[n, 3, 3]);
    g.create_dataset("b0").with_f64_data(&flat9(&|g| g.b0)).with_shape(&[n, 3, 3]);
    let euler: Vec<f64> = rows.iter().flat_map(|r| r.2.euler).collect();
    g.create_dataset("euler").with_f64_data(&euler).with_shape(&[n, 3]);
    let col = |f: &dyn Fn(&GrainReport) -> f64| rows.iter().map(|r| f(r.2)).collect::<Vec<f64>>();
    g.create_dataset("matching_rate").with_f64_data(&col(&|g| g.matching_rate));
    g.create_dataset("n_indexed")
        .with_u64_data(&rows.iter().map(|r| r.2.n_indexed as u64).collect::<Vec<_>>());
    g.create_dataset("n_simulated")
        .with_u64_data(&rows.iter().map(|r| r.2.n_simulated as u64).collect::<Vec<_>>());
    g.create_dataset("rms_px").with_f64_data(&col(&|g| g.rms_px));
    let sc: Vec<f64> = rows.iter().flat_map(|r| r.2.strain.crystal).collect();
    g.create_dataset("strain_crystal").with_f64_data(&sc).with_shape(&[n, 6]);
    let ss: Vec<f64> = rows.iter().flat_map(|r| r.2.strain.sample).collect();
    g.create_dataset("strain_sample").with_f64_data(&ss).with_shape(&[n, 6]);
    g.create_dataset("von_mises").with_f64_data(&col(&|g| g.strain.von_mises));
    let nan6 = [f64::NAN; 6];
    let stc: Vec<f64> = rows.iter().flat_map(|r| r.2.stress.as_ref().map_or(nan6, |s| s.crystal)).collect();
    g.create_dataset("stress_crystal").with_f64_data(&stc).with_shape(&[n, 6]);
    let sts: Vec<f64> = rows.iter().flat_map(|r| r.2.stress.as_ref().map_or(nan6, |s| s.sample)).collect();
    g.create_dataset("stress_sample").with_f64_data(&sts).with_shape(&[n, 6]);
    g.create_dataset("von_mises_stress")
        .with_f64_data(&col(&|g| g.stress.as_ref().map_or(f64::NAN, |s| s.von_mises)));
    b.add_group(g.finish());
    if let Some(c) = cluster {
        c.validate(results.grid.len())?;
        write_cluster(&mut b, c)?;
    }
    b.finish().map_err(werr)
}

fn write_cluster(b: &mut FileBuilder, c: &ClusterRecord) -> Result<()> {
    let mut g = b.create_group("cluster");
    g.set_attr("features", AttrValue::String(c.features.clone()));
    g.set_attr("method", AttrValue::String(c.method.clone()));
    g.set_attr("k", AttrValue::I64(c.k as i64));
    g.set_attr("n_regions", AttrValue::I64(c.n_regions as i64));
    g.set_attr("silhouette", AttrValue::F64(c.silhouette));
    g.set_attr("calinski_harabasz", AttrValue::F64(c.calinski_harabasz));
    g.set_attr("suggested_k", AttrValue::I64(c.suggested_k.map_or(-1, |k| k as i64)));
    g.set_attr("settings", AttrValue::String(c.settings.to_string()));
    let u64s = |v: &[usize]| v.iter().map(|&x| x as u64).collect::<Vec<u64>>();
    let rgb = |v: &[[u8; 3]]| v.iter().flatten().copied().collect::<Vec<u8>>();
    let (n, k) = (c.labels.len() as u64, c.k as u64);
    g.create_dataset("labels").with_u64_data(&u64s(&c.labels));
    g.create_dataset("regions").with_u64_data(&u64s(&c.regions));
    g.create_dataset("direct_rgb").with_u8_data(&rgb(&c.direct_rgb)).with_shape(&[n, 3]);
    g.create_dataset("delegates").with_u64_data(&u64s(&c.delegates));
    g.create_dataset("centroid_rgb").with_u8_data(&rgb(&c.centroid_rgb)).with_shape(&[k, 3]);
    if !c.delegate_grains.is_empty() {
        let mats: Vec<&str> =
            c.delegate_grains.iter().map(|d| d.as_ref().map_or("", |d| d.material.as_str())).collect();
        g.create_dataset("delegate_material").with_vlen_strings(&mats);
        let ub: Vec<f64> = c
            .delegate_grains
            .iter()
            .flat_map(|d| d.as_ref().map_or([[f64::NAN; 3]; 3], |d| d.ub).into_iter().flatten())
            .collect();
        g.create_dataset("delegate_ub").with_f64_data(&ub).with_shape(&[k, 3, 3]);
        let mr: Vec<f64> =
            c.delegate_grains.iter().map(|d| d.as_ref().map_or(f64::NAN, |d| d.matching_rate)).collect();
        g.create_dataset("delegate_matching_rate").with_f64_data(&mr);
    }
    g.create_dataset("scores_k").with_u64_data(&c.scores.iter().map(|s| s.k as u64).collect::<Vec<_>>());
    g.create_dataset("scores_silhouette")
        .with_f64_data(&c.scores.iter().map(|s| s.silhouette).collect::<Vec<_>>());
    g.create_dataset("scores_calinski_harabasz")
        .with_f64_data(&c.scores.iter().map(|s| s.calinski_harabasz).collect::<Vec<_>>());
    g.create_dataset("explained_variance_ratio").with_f64_data(&c.explained_variance_ratio);
    b.add_group(g.finish());
    Ok(())
}

/// The clustering kept in a scan's HDF5 file (group `cluster/`), or None when the file has none; `name`
/// is for messages.
pub fn cluster_from_hdf5(bytes: Vec<u8>, name: &str) -> Result<Option<ClusterRecord>> {
    let bad = |what: String| LaueError::parse(name, what);
    let h = |e: hdf5_pure::Error| LaueError::parse(name, format!("HDF5: {e}"));
    let f = File::from_bytes(bytes).map_err(h)?;
    let Ok(group) = f.group("cluster") else { return Ok(None) };
    let attrs = group.attrs().map_err(h)?;
    let s = |k: &str| match attrs.get(k) {
        Some(AttrValue::String(s) | AttrValue::AsciiString(s)) => Ok(s.clone()),
        _ => Err(bad(format!("cluster attribute '{k}' missing or not a string"))),
    };
    let int = |k: &str| match attrs.get(k) {
        Some(AttrValue::I64(v)) => Ok(*v),
        _ => Err(bad(format!("cluster attribute '{k}' missing or not an integer"))),
    };
    let float = |k: &str| match attrs.get(k) {
        Some(AttrValue::F64(v)) => Ok(*v),
        _ => Err(bad(format!("cluster attribute '{k}' missing or not a number"))),
    };
    let u = |p: &str| -> Result<Vec<usize>> {
        Ok(f.dataset(p).and_then(|d| d.read_u64()).map_err(h)?.into_iter().map(|x| x as usize).collect())
    };
    let fl = |p: &str| f.dataset(p).and_then(|d| d.read_f64()).map_err(h);
    let rgb = |p: &str| -> Result<Vec<[u8; 3]>> {
        let v = f.dataset(p).and_then(|d| d.read_u8()).map_err(h)?;
        if v.len() % 3 != 0 {
            return Err(bad(format!("{p}: {} values, not rows of three", v.len())));
        }
        Ok(v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
    };
    let k = usize::try_from(int("k")?).map_err(|_| bad("cluster k is negative".into()))?;
    let delegate_grains = if f.dataset("cluster/delegate_material").is_ok() {
        let mats = f.dataset("cluster/delegate_material").and_then(|d| d.read_string()).map_err(h)?;
        let ub = fl("cluster/delegate_ub")?;
        let mr = fl("cluster/delegate_matching_rate")?;
        if mats.len() != k || ub.len() != 9 * k || mr.len() != k {
            return Err(bad("cluster/delegate_* datasets do not have K rows".into()));
        }
        (0..k)
            .map(|c| {
                (!mats[c].is_empty()).then(|| DelegateGrain {
                    material: mats[c].clone(),
                    ub: [0, 1, 2].map(|r| [0, 1, 2].map(|j| ub[9 * c + 3 * r + j])),
                    matching_rate: mr[c],
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let (sk, ss, sc) =
        (u("cluster/scores_k")?, fl("cluster/scores_silhouette")?, fl("cluster/scores_calinski_harabasz")?);
    if ss.len() != sk.len() || sc.len() != sk.len() {
        return Err(bad("cluster/scores_* datasets have different lengths".into()));
    }
    let suggested = int("suggested_k")?;
    let record = ClusterRecord {
        features: s("features")?,
        method: s("method")?,
        k,
        labels: u("cluster/labels")?,
        regions: u("cluster/regions")?,
        n_regions: usize::try_from(int("n_regions")?)
            .map_err(|_| bad("cluster n_regions is negative".into()))?,
        delegates: u("cluster/delegates")?,
        centroid_rgb: rgb("cluster/centroid_rgb")?,
        direct_rgb: rgb("cluster/direct_rgb")?,
        delegate_grains,
        silhouette: float("silhouette")?,
        calinski_harabasz: float("calinski_harabasz")?,
        scores: (0..sk.len())
            .map(|i| KScore { k: sk[i], silhouette: ss[i], calinski_harabasz: sc[i] })
            .collect(),
        suggested_k: usize::try_from(suggested).ok(),
        explained_variance_ratio: fl("cluster/explained_variance_ratio")?,
        settings: serde_json::from_str(&s("settings")?).map_err(|e| bad(format!("cluster settings: {e}")))?,
    };
    let n = record.labels.len();
    record.validate(n).map_err(|e| bad(e.reason()))?;
    Ok(Some(record))
}

/// Reads a scan's HDF5 file written by [`to_hdf5`]; `name` is for messages. Returns the results and the
/// shard (i, n) the file holds, if it is one.
pub fn from_hdf5(bytes: Vec<u8>, name: &str) -> Result<(ScanResults, Option<(usize, usize)>)> {
    let bad = |what: &str| LaueError::parse(name, what.to_string());
    let h = |e: hdf5_pure::Error| LaueError::parse(name, format!("HDF5: {e}"));
    let f = File::from_bytes(bytes).map_err(h)?;
    let attrs = f.root().attrs().map_err(h)?;
    let s = |k: &str| match attrs.get(k) {
        Some(AttrValue::String(s) | AttrValue::AsciiString(s)) => Ok(s.clone()),
        _ => Err(bad(&format!("root attribute '{k}' missing or not a string"))),
    };
    let int = |k: &str| match attrs.get(k) {
        Some(AttrValue::I64(v)) => Ok(*v),
        _ => Err(bad(&format!("root attribute '{k}' missing or not an integer"))),
    };
    if s("format")? != FORMAT {
        return Err(bad("not a lauekit scan file (root attribute format ≠ lauekit-scan)"));
    }
    if int("format_version")? > FORMAT_VERSION {
        return Err(bad("written by a newer lauekit (format_version)"));
    }
    let step_um = match attrs.get("step_um") {
        Some(AttrValue::F64Array(v)) if v.len() == 2 => Some([v[0], v[1]]),
        _ => None,
    };
    let shard = match attrs.get("shard") {
        Some(AttrValue::I64Array(v)) if v.len() == 2 && v[0] >= 0 && v[1] > v[0] => {
            Some((v[0] as usize, v[1] as usize))
        }
        _ => None,
    };
    let (nx, ny) = (int("nx")?, int("ny")?);
    if nx <= 0 || ny <= 0 {
        return Err(bad("grid size nx, ny must be positive"));
    }
    let grid =
        ScanGrid::new(nx as usize, ny as usize, step_um, int("snake")? != 0).map_err(|e| bad(&e.reason()))?;
    let request = serde_json::from_str(&s("request")?).map_err(|e| bad(&format!("request: {e}")))?;
    let software = s("software")?;

    let u = |p: &str| f.dataset(p).and_then(|d| d.read_u64()).map_err(h);
    let fl = |p: &str| f.dataset(p).and_then(|d| d.read_f64()).map_err(h);
    let st = |p: &str| f.dataset(p).and_then(|d| d.read_string()).map_err(h);
    let index = u("points/index")?;
    let n = index.len();
    let (ix, iy, image, status) = (
        u("points/ix")?,
        u("points/iy")?,
        st("points/image")?,
        f.dataset("points/status").and_then(|d| d.read_u8()).map_err(h)?,
    );
    let (error, n_peaks, isum, pint, n_grains, elapsed) = (
        st("points/error")?,
        u("points/n_peaks")?,
        fl("points/intensity_sum")?,
        fl("points/peaks_intensity")?,
        u("points/n_grains")?,
        fl("points/elapsed_ms")?,
    );
    for (k, len) in [
        ("ix", ix.len()),
        ("iy", iy.len()),
        ("image", image.len()),
        ("status", status.len()),
        ("error", error.len()),
        ("n_peaks", n_peaks.len()),
        ("intensity_sum", isum.len()),
        ("peaks_intensity", pint.len()),
        ("n_grains", n_grains.len()),
        ("elapsed_ms", elapsed.len()),
    ] {
        if len != n {
            return Err(bad(&format!("points/{k} has {len} rows, points/index {n}")));
        }
    }
    let mut points = Vec::with_capacity(n);
    for i in 0..n {
        let status = PointStatus::from_code(status[i]).ok_or_else(|| bad("points/status: unknown code"))?;
        points.push(PointResult {
            index: index[i] as usize,
            ix: ix[i] as usize,
            iy: iy[i] as usize,
            image: image[i].clone(),
            status,
            error: if error[i].is_empty() { None } else { Some(error[i].clone()) },
            n_peaks: n_peaks[i] as usize,
            intensity_sum: isum[i],
            peaks_intensity: pint[i],
            grains: Vec::new(),
            elapsed_ms: elapsed[i],
        });
    }
    let gp = u("grains/point")?;
    let m = gp.len();
    let (rank, mat, lg) = (u("grains/rank")?, st("grains/material")?, st("grains/laue_group")?);
    let method = f.dataset("grains/method").and_then(|d| d.read_u8()).map_err(h)?;
    let (ub, b0, euler) = (fl("grains/ub")?, fl("grains/b0")?, fl("grains/euler")?);
    let (mr, nind, nsim, rms) =
        (fl("grains/matching_rate")?, u("grains/n_indexed")?, u("grains/n_simulated")?, fl("grains/rms_px")?);
    let (sc, ss, vm) = (fl("grains/strain_crystal")?, fl("grains/strain_sample")?, fl("grains/von_mises")?);
    // stress columns: since lauekit 0.1 files of issue 15; older files have none
    let optional = |p: &str| f.dataset(p).ok().and_then(|d| d.read_f64().ok());
    let (stress_crystal, stress_sample, stress_vm) = (
        optional("grains/stress_crystal"),
        optional("grains/stress_sample"),
        optional("grains/von_mises_stress"),
    );
    if [&stress_crystal, &stress_sample].iter().any(|v| v.as_ref().is_some_and(|v| v.len() != 6 * m))
        || stress_vm.as_ref().is_some_and(|v| v.len() != m)
    {
        return Err(bad("grains/stress_* datasets have different lengths"));
    }
    let lens = [
        rank.len(),
        mat.len(),
        lg.len(),
        method.len(),
        mr.len(),
        nind.len(),
        nsim.len(),
        rms.len(),
        vm.len(),
    ];
    if lens.iter().any(|&l| l != m)
        || ub.len() != 9 * m
        || b0.len() != 9 * m
        || euler.len() != 3 * m
        || sc.len() != 6 * m
        || ss.len() != 6 * m
    {
        return Err(bad("grains/ datasets have different lengths"));
    }
    let pos: std::collections::HashMap<usize, usize> =
        points.iter().enumerate().map(|(k, p)| (p.index, k)).collect();
    let m3 = |v: &[f64], k: usize| {
        [0, 1, 2].map(|r| [v[9 * k + 3 * r], v[9 * k + 3 * r + 1], v[9 * k + 3 * r + 2]])
    };
    let a6 = |v: &[f64], k: usize| [0, 1, 2, 3, 4, 5].map(|c| v[6 * k + c]);
    for k in 0..m {
        let Some(&pi) = pos.get(&(gp[k] as usize)) else {
            return Err(bad(&format!("grains/point {} names no point of the file", gp[k])));
        };
        if points[pi].grains.len() != rank[k] as usize {
            return Err(bad("grains/rank out of order"));
        }
        points[pi].grains.push(GrainReport {
            material: mat[k].clone(),
            lattice: None,
            space_group: None,
            laue_group: lg[k].clone(),
            method: Method::from_code(method[k])
                .ok_or_else(|| bad(&format!("grains/method {} is no method code", method[k])))?,
            ub: m3(&ub, k),
            b0: m3(&b0, k),
            euler: [euler[3 * k], euler[3 * k + 1], euler[3 * k + 2]],
            matching_rate: mr[k],
            n_indexed: nind[k] as usize,
            n_simulated: nsim[k] as usize,
            rms_px: rms[k],
            strain: StrainReport { crystal: a6(&sc, k), sample: a6(&ss, k), von_mises: vm[k] },
            stress: match (&stress_sample, &stress_vm) {
                (Some(s), Some(v)) if v[k].is_finite() => Some(StressReport {
                    crystal: a6(stress_crystal.as_deref().unwrap_or(s), k),
                    sample: a6(s, k),
                    von_mises: v[k],
                }),
                _ => None,
            },
            wider_band: None,
            chance: None,
            misorientation_deg: None,
            orientation_note: None,
            spots: Vec::new(),
            simulated: Vec::new(),
        });
    }
    for p in &points {
        if p.grains.len() != n_grains[pos[&p.index]] as usize {
            return Err(bad(&format!("point {}: n_grains does not match grains/", p.index)));
        }
    }
    Ok((ScanResults { grid, request, software, points }, shard))
}
