//! Finding local maxima: background, detection image, blobs (LaueTools' method 0) and the convolution
//! variant (method 2).

/// Detector families that LaueTools treats differently when subtracting the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundPath {
    /// MarCCD-like: A − B in integers, zero outside the round active area; the formula is ignored.
    MaskedIntegers,
    /// sCMOS, Eiger, unknown: A − k·B in f32, clipped to [0, saturation]; no mask.
    Formula,
}

impl BackgroundPath {
    /// LaueTools' choice from its CCDLabel: detectors with a round taper get the masked path.
    pub fn for_detector(label: Option<&str>) -> Self {
        match label {
            Some(l) if l.starts_with("MARCCD") || l.starts_with("VHR") || l.starts_with("PRINCETON") => {
                BackgroundPath::MaskedIntegers
            }
            _ => BackgroundPath::Formula,
        }
    }
}

/// Pixel types the detection runs on directly, without a converted copy of the frame. The minimum filter
/// works in the native type (a monotone conversion to f32 afterwards gives the same minimum); the detection
/// value is computed in f32 as LaueTools does.
pub trait Sample: Copy + PartialOrd + Send + Sync + 'static {
    fn to_f32(self) -> f32;
}

macro_rules! sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    )*};
}
sample!(u8, u16, u32, i32, f32);

/// 10×10 minimum filter, window rows r−5…r+4 and columns c−5…c+4, edges extended symmetrically
/// (the edge pixel repeated), as `scipy.ndimage.minimum_filter(A, size=10)`.
pub fn minimum_filter_10<T: Sample>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = a.to_vec();
    if a.is_empty() {
        return out;
    }
    let mut h = RowMins::new(a[0], cols);
    for r in 0..rows {
        h.vertical(a, rows, r, &mut out[r * cols..(r + 1) * cols]);
    }
    out
}

const BEFORE: usize = 5;
const AFTER: usize = 4;
/// Rows kept per level of the vertical pass (≥ the 10 rows the first output row needs at once).
const RING: usize = 16;

/// dst[i] = min(x[i], y[i]) (a plain compare, so it vectorises).
#[inline(always)]
fn min2<T: Sample>(dst: &mut [T], x: &[T], y: &[T]) {
    for ((o, &u), &v) in dst.iter_mut().zip(x).zip(y) {
        *o = if v < u { v } else { u };
    }
}

/// Rows of one level of the vertical pass, indexed by virtual row v ∈ [−5, rows + 4].
struct Ring<T> {
    buf: Vec<T>,
    cols: usize,
}

impl<T: Sample> Ring<T> {
    fn new(cols: usize, fill: T) -> Self {
        Ring { buf: vec![fill; RING * cols], cols }
    }
    fn slot(&self, v: isize) -> std::ops::Range<usize> {
        let s = (v + BEFORE as isize).rem_euclid(RING as isize) as usize;
        s * self.cols..(s + 1) * self.cols
    }
    fn row(&self, v: isize) -> &[T] {
        &self.buf[self.slot(v)]
    }
    fn row_mut(&mut self, v: isize) -> &mut [T] {
        let r = self.slot(v);
        &mut self.buf[r]
    }
}

/// The separable 10×10 minimum filter, streamed over the rows with no full-frame buffer. Both passes use
/// doubling: with m2(i) = min(x(i), x(i+1)), m4(i) = min(m2(i), m2(i+2)), m8(i) = min(m4(i), m4(i+4)), the
/// minimum over x(i…i+9) is min(m8(i), m2(i+8)) — four element-wise passes instead of nine. Vertically the
/// levels are kept for a few rows each, over virtual rows −5 … rows+4 that reflect onto the frame.
struct RowMins<T> {
    cols: usize,
    /// horizontal minima, then the vertical levels
    h: Ring<T>,
    m2: Ring<T>,
    m4: Ring<T>,
    m8: Ring<T>,
    /// next virtual row to compute at each level
    next: [isize; 4],
    /// last output row whose levels are computed
    ready: isize,
    /// horizontal scratch: padded row and its levels
    padded: Vec<T>,
    s2: Vec<T>,
    s4: Vec<T>,
    s8: Vec<T>,
}

impl<T: Sample> RowMins<T> {
    fn new(first: T, cols: usize) -> Self {
        let w = cols + BEFORE + AFTER;
        RowMins {
            cols,
            h: Ring::new(cols, first),
            m2: Ring::new(cols, first),
            m4: Ring::new(cols, first),
            m8: Ring::new(cols, first),
            next: [-(BEFORE as isize); 4],
            ready: -1,
            padded: vec![first; w],
            s2: vec![first; w],
            s4: vec![first; w],
            s8: vec![first; w],
        }
    }

    /// Horizontal minimum (columns c−5…c+4, reflected at the edges) of image row `r` into `dst`.
    fn horizontal(&mut self, a: &[T], r: usize, dst_v: isize) {
        let cols = self.cols;
        let w = cols + BEFORE + AFTER;
        let row = &a[r * cols..(r + 1) * cols];
        for (i, p) in self.padded[..BEFORE].iter_mut().enumerate() {
            *p = row[reflect(i as isize - BEFORE as isize, cols)];
        }
        self.padded[BEFORE..BEFORE + cols].copy_from_slice(row);
        for (i, p) in self.padded[BEFORE + cols..].iter_mut().enumerate() {
            *p = row[reflect((cols + i) as isize, cols)];
        }
        let p = &self.padded;
        min2(&mut self.s2[..w - 1], &p[..w - 1], &p[1..w]);
        min2(&mut self.s4[..w - 3], &self.s2[..w - 3], &self.s2[2..w - 1]);
        min2(&mut self.s8[..w - 7], &self.s4[..w - 7], &self.s4[4..w - 3]);
        let dst = self.h.row_mut(dst_v);
        min2(dst, &self.s8[..cols], &self.s2[8..8 + cols]);
    }

    /// The 10×10 minimum for output row `r` into `dst`. Rows must be asked in increasing order (rows may be
    /// skipped: their levels are still computed, one output row at a time, so the rings never overflow).
    fn vertical(&mut self, a: &[T], rows: usize, r: usize, dst: &mut [T]) {
        let r = r as isize;
        while self.ready < r {
            self.ready += 1;
            self.advance(a, rows, self.ready);
        }
        min2(dst, self.m8.row(r - BEFORE as isize), self.m2.row(r + 3));
    }

    /// Computes what output row `t` needs: h up to t+4, m2 up to t+3, m4 up to t−1, m8 up to t−5.
    fn advance(&mut self, a: &[T], rows: usize, t: isize) {
        while self.next[0] <= t + AFTER as isize {
            let v = self.next[0];
            self.horizontal(a, reflect(v, rows), v);
            self.next[0] += 1;
        }
        while self.next[1] <= t + 3 {
            let v = self.next[1];
            let (x, y) = (self.h.slot(v), self.h.slot(v + 1));
            min2(self.m2.row_mut(v), &self.h.buf[x], &self.h.buf[y]);
            self.next[1] += 1;
        }
        while self.next[2] < t {
            let v = self.next[2];
            let (x, y) = (self.m2.slot(v), self.m2.slot(v + 2));
            min2(self.m4.row_mut(v), &self.m2.buf[x], &self.m2.buf[y]);
            self.next[2] += 1;
        }
        while self.next[3] <= t - BEFORE as isize {
            let v = self.next[3];
            let (x, y) = (self.m4.slot(v), self.m4.slot(v + 4));
            min2(self.m8.row_mut(v), &self.m4.buf[x], &self.m4.buf[y]);
            self.next[3] += 1;
        }
    }
}

/// Columns [c0, c1] of row `r` inside MarCCD's active disc, as LaueTools masks it: centre
/// (rows/2, cols/2), radius min(rows/2, cols/2) − 15 px, inclusive. None when the row misses the disc.
fn active_columns(r: usize, rows: usize, cols: usize) -> Option<(usize, usize)> {
    let (cr, cc) = ((rows / 2) as i64, (cols / 2) as i64);
    let radius = (rows / 2).min(cols / 2) as i64 - 15;
    let dr = r as i64 - cr;
    let room = radius * radius - dr * dr;
    if room < 0 {
        return None;
    }
    // Largest half-width with half² ≤ room, exact in integers.
    let mut half = (room as f64).sqrt() as i64;
    while half * half > room {
        half -= 1;
    }
    while (half + 1) * (half + 1) <= room {
        half += 1;
    }
    let c0 = (cc - half).max(0) as usize;
    let c1 = ((cc + half).max(0) as usize).min(cols - 1);
    (c0 <= c1).then_some((c0, c1))
}

/// Half-sample symmetric index: … 1 0 | 0 1 2 … n−1 | n−1 n−2 …
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * n;
    let mut m = i.rem_euclid(period);
    if m >= n {
        m = period - 1 - m;
    }
    m as usize
}

/// The image the maxima are searched in: A − B (MarCCD path, masked) or clip(A − k·B, 0, sat).
pub fn detection_image<T: Sample>(
    a: &[T],
    rows: usize,
    cols: usize,
    path: BackgroundPath,
    k: f32,
    saturation: f32,
) -> Vec<f32> {
    let b = minimum_filter_10(a, rows, cols);
    match path {
        BackgroundPath::MaskedIntegers => {
            let mut d = vec![0f32; rows * cols];
            for r in 0..rows {
                let Some((c0, c1)) = active_columns(r, rows, cols) else { continue };
                let o = r * cols;
                for i in o + c0..=o + c1 {
                    d[i] = (a[i].to_f32() - b[i].to_f32()).clamp(0.0, saturation);
                }
            }
            d
        }
        BackgroundPath::Formula => {
            a.iter().zip(&b).map(|(&x, &y)| (x.to_f32() - k * y.to_f32()).clamp(0.0, saturation)).collect()
        }
    }
}

/// Method 0 in one pass over the rows, without materialising the detection image: the horizontal half of the
/// 10×10 minimum filter first, then row by row the vertical half, the detection value (A − B or
/// clip(A − k·B)), the strict threshold and 4-connected runs joined across rows. Same result as
/// [`detection_image`] followed by [`blobs_hottest`], with a fraction of the memory traffic.
///
/// `masked` (one flag per pixel) marks pixels that must not take part: their detection value is 0, so they
/// are never a local maximum and a blob does not run across them (a spot cut by a module gap gives one
/// maximum on each side). The caller sets them to the type's largest value in `a`, so that the minimum filter
/// (the background) never takes them: a pixel next to a gap gets the background of its usable neighbours,
/// not a sentinel (−1 would lift A − k·B along every gap edge) nor a filled-in estimate.
#[allow(clippy::too_many_arguments)]
pub fn local_maxima_method0<T: Sample>(
    a: &[T],
    masked: Option<&[bool]>,
    rows: usize,
    cols: usize,
    path: BackgroundPath,
    k: f32,
    saturation: f32,
    threshold: f32,
) -> Vec<LocalMaximum> {
    if a.is_empty() || cols == 0 {
        return Vec::new();
    }
    let mut mins = RowMins::new(a[0], cols);
    let mut brow: Vec<T> = a[..cols].to_vec();
    let mut drow = vec![0f32; cols];
    // Runs: (first col, last col, label); labels are created in raster order of their first pixel.
    let mut prev: Vec<(usize, usize, u32)> = Vec::new();
    let mut cur: Vec<(usize, usize, u32)> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut best: Vec<(f32, usize)> = Vec::new();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    const BLOCK: usize = 16;
    for r in 0..rows {
        let (c_lo, c_hi) = match path {
            BackgroundPath::MaskedIntegers => match active_columns(r, rows, cols) {
                Some(span) => span,
                None => {
                    // A row outside the active disc: no pixel here, no run continues across it.
                    prev.clear();
                    continue;
                }
            },
            BackgroundPath::Formula => (0, cols - 1),
        };
        mins.vertical(a, rows, r, &mut brow);
        let arow = &a[r * cols..(r + 1) * cols];
        let kk = if path == BackgroundPath::MaskedIntegers { 1.0 } else { k };
        // The detection row in f32 (vectorised), and its maximum to skip rows with nothing above threshold.
        // (Plain compares, not f32::max/min, so that the loops vectorise; the frame has no NaN here.)
        for ((d, &x), &b) in drow[c_lo..=c_hi].iter_mut().zip(&arow[c_lo..=c_hi]).zip(&brow[c_lo..=c_hi]) {
            let v = x.to_f32() - kk * b.to_f32();
            let v = if v > 0.0 { v } else { 0.0 };
            *d = if v < saturation { v } else { saturation };
        }
        if let Some(m) = masked {
            for (d, &m) in drow[c_lo..=c_hi].iter_mut().zip(&m[r * cols + c_lo..=r * cols + c_hi]) {
                if m {
                    *d = 0.0;
                }
            }
        }
        let above = drow[c_lo..=c_hi].iter().map(|&d| (d > threshold) as u32).sum::<u32>();
        cur.clear();
        if above > 0 {
            let mut c = c_lo;
            while c <= c_hi {
                if drow[c] <= threshold {
                    // Skip blocks with nothing above threshold, then single pixels.
                    while c + BLOCK <= c_hi + 1 && drow[c..c + BLOCK].iter().all(|&v| v <= threshold) {
                        c += BLOCK;
                    }
                    while c <= c_hi && drow[c] <= threshold {
                        c += 1;
                    }
                    if c > c_hi {
                        break;
                    }
                }
                let d = drow[c];
                // A run starts here.
                let start = c;
                let mut hot = (d, r * cols + c);
                c += 1;
                while c <= c_hi {
                    let d = drow[c];
                    if d <= threshold {
                        break;
                    }
                    if d > hot.0 {
                        hot = (d, r * cols + c);
                    }
                    c += 1;
                }
                let end = c - 1;
                let mut label = u32::MAX;
                for &(p0, p1, pl) in &prev {
                    if p1 < start || p0 > end {
                        continue;
                    }
                    let root = find(&mut parent, pl);
                    if label == u32::MAX {
                        label = root;
                    } else if root != label {
                        let (lo, hi) = if root < label { (root, label) } else { (label, root) };
                        parent[hi as usize] = lo;
                        label = lo;
                    }
                }
                if label == u32::MAX {
                    label = parent.len() as u32;
                    parent.push(label);
                    best.push(hot);
                } else {
                    let b = &mut best[label as usize];
                    if hot.0 > b.0 || (hot.0 == b.0 && hot.1 < b.1) {
                        *b = hot;
                    }
                }
                cur.push((start, end, label));
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    // Fold every label's best pixel into its root: highest value, earliest pixel on ties.
    let n = parent.len();
    let mut root_best: Vec<Option<(f32, usize)>> = vec![None; n];
    for (l, &b) in best.iter().enumerate() {
        let root = find(&mut parent, l as u32) as usize;
        match root_best[root] {
            Some(rb) if rb.0 > b.0 || (rb.0 == b.0 && rb.1 <= b.1) => {}
            _ => root_best[root] = Some(b),
        }
    }
    root_best
        .into_iter()
        .flatten()
        .map(|(v, i)| LocalMaximum { row: i / cols, col: i % cols, value: v })
        .collect()
}

/// A local maximum: integer pixel (row, col) and the detection-image value there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalMaximum {
    pub row: usize,
    pub col: usize,
    pub value: f32,
}

/// Pixels of `d` above `threshold` (strict), grouped in 4-connected blobs numbered in raster order of their
/// first pixel; one point per blob: its hottest pixel (first in raster order on ties).
pub fn blobs_hottest(d: &[f32], rows: usize, cols: usize, threshold: f32) -> Vec<LocalMaximum> {
    let mut labels = vec![u32::MAX; rows * cols];
    let mut parent: Vec<u32> = Vec::new();
    let mut above: Vec<usize> = Vec::new();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for r in 0..rows {
        for c in 0..cols {
            let i = r * cols + c;
            if d[i] <= threshold {
                continue;
            }
            let left = if c > 0 { labels[i - 1] } else { u32::MAX };
            let up = if r > 0 { labels[i - cols] } else { u32::MAX };
            let l = match (left != u32::MAX, up != u32::MAX) {
                (false, false) => {
                    parent.push(parent.len() as u32);
                    parent.len() as u32 - 1
                }
                (true, false) => left,
                (false, true) => up,
                (true, true) => {
                    let (a, b) = (find(&mut parent, left), find(&mut parent, up));
                    // The smaller label (earlier first pixel) stays the root: blob order = raster order.
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi as usize] = lo;
                    lo
                }
            };
            labels[i] = l;
            above.push(i);
        }
    }
    let n = parent.len();
    let mut best: Vec<Option<LocalMaximum>> = vec![None; n];
    // `above` is in raster order, so ties keep the first pixel.
    for &i in &above {
        let root = find(&mut parent, labels[i]) as usize;
        let v = d[i];
        match best[root] {
            Some(b) if b.value >= v => {}
            _ => best[root] = Some(LocalMaximum { row: i / cols, col: i % cols, value: v }),
        }
    }
    best.into_iter().flatten().collect()
}

/// Merges points closer than 2 px (transitively), keeping the earliest of each group, as LaueTools'
/// `removeClosePoints(…, 2)`.
pub fn merge_close(points: &[LocalMaximum]) -> Vec<LocalMaximum> {
    let n = points.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (points[i].row, points[i].col));
    for a in 0..n {
        let i = order[a];
        for &j in &order[a + 1..] {
            let dr = points[j].row as i64 - points[i].row as i64;
            if dr >= 2 {
                break;
            }
            let dc = points[j].col as i64 - points[i].col as i64;
            if dr * dr + dc * dc < 4 {
                let (x, y) = (find(&mut parent, i), find(&mut parent, j));
                let (lo, hi) = if x < y { (x, y) } else { (y, x) };
                parent[hi] = lo;
            }
        }
    }
    (0..n).filter(|&i| find(&mut parent, i) == i).map(|i| points[i]).collect()
}

/// LaueTools' method-2 kernel: a Laplacian-of-Gaussian-like hat of size n, radius r0, peak value v, from
/// which each column's sum/size is subtracted (as LaueTools does, making it not zero-sum).
pub fn hat_kernel(peak_value: f64, n: usize, r0: f64) -> Vec<f64> {
    let s2 = r0 * r0 / 2.0; // σ² with σ = r0/√2
    let centre = (n as f64 - 1.0) / 2.0;
    let mut k = vec![0f64; n * n];
    for r in 0..n {
        for c in 0..n {
            let rho2 = (r as f64 - centre).powi(2) + (c as f64 - centre).powi(2);
            k[r * n + c] = (-rho2 / (2.0 * s2)).exp() * (2.0 * s2 - rho2) * peak_value / (2.0 * s2);
        }
    }
    for c in 0..n {
        let col_sum: f64 = (0..n).map(|r| k[r * n + c]).sum();
        for r in 0..n {
            k[r * n + c] -= col_sum / (n * n) as f64;
        }
    }
    k
}

/// Method 2 candidates: convolve `d` with the hat kernel (symmetric edges), 8-connected blobs above
/// `threshold_convolve`, each blob's first pixel; amplitude = d − min over the (2p)² box; keep amplitude >
/// `intensity_threshold`, strongest first, moved to the box's hottest pixel; drop points within 10 px of a
/// stronger one.
pub fn convolution_candidates(
    d: &[f32],
    rows: usize,
    cols: usize,
    params_hat: (f64, usize, f64),
    threshold_convolve: f32,
    intensity_threshold: f32,
    pixel_near_radius: usize,
) -> Vec<LocalMaximum> {
    let n = params_hat.1.max(1);
    let k = hat_kernel(params_hat.0, n, params_hat.2);
    let half = (n / 2) as isize;
    let mut conv = vec![0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let mut acc = 0f64;
            for kr in 0..n {
                let rr = reflect(r as isize + half - kr as isize, rows);
                for kc in 0..n {
                    let cc = reflect(c as isize + half - kc as isize, cols);
                    acc += k[kr * n + kc] * d[rr * cols + cc] as f64;
                }
            }
            conv[r * cols + c] = acc as f32;
        }
    }
    // 8-connected blobs; first pixel in raster order.
    let mut seen = vec![false; rows * cols];
    let mut firsts = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let i = r * cols + c;
            if seen[i] || conv[i] <= threshold_convolve {
                continue;
            }
            firsts.push((r, c));
            let mut stack = vec![(r, c)];
            seen[i] = true;
            while let Some((pr, pc)) = stack.pop() {
                for dr in -1i64..=1 {
                    for dc in -1i64..=1 {
                        let (nr, nc) = (pr as i64 + dr, pc as i64 + dc);
                        if nr < 0 || nc < 0 || nr >= rows as i64 || nc >= cols as i64 {
                            continue;
                        }
                        let j = nr as usize * cols + nc as usize;
                        if !seen[j] && conv[j] > threshold_convolve {
                            seen[j] = true;
                            stack.push((nr as usize, nc as usize));
                        }
                    }
                }
            }
        }
    }
    let p = pixel_near_radius;
    let mut cands: Vec<(f32, LocalMaximum)> = Vec::new();
    for (r, c) in firsts {
        let (r0, r1) = (r.saturating_sub(p), (r + p).min(rows));
        let (c0, c1) = (c.saturating_sub(p), (c + p).min(cols));
        let (mut lo, mut hi, mut hot) = (f32::INFINITY, f32::NEG_INFINITY, (r, c));
        for rr in r0..r1 {
            for cc in c0..c1 {
                let v = d[rr * cols + cc];
                lo = lo.min(v);
                if v > hi {
                    hi = v;
                    hot = (rr, cc);
                }
            }
        }
        let amp = d[r * cols + c] - lo;
        if amp > intensity_threshold {
            cands.push((amp, LocalMaximum { row: hot.0, col: hot.1, value: hi }));
        }
    }
    cands.sort_by(|a, b| b.0.total_cmp(&a.0));
    let pts: Vec<LocalMaximum> = cands.into_iter().map(|(_, m)| m).collect();
    purge_close(&pts, 10.0, |m| (m.col as f64, m.row as f64))
}

/// Drops every j that lies closer than `dist` to some i < j (whether or not i itself survives), as
/// LaueTools' `purgeClosePoints2`.
pub fn purge_close<T: Copy>(items: &[T], dist: f64, xy: impl Fn(&T) -> (f64, f64)) -> Vec<T> {
    let n = items.len();
    let mut drop = vec![false; n];
    let d2 = dist * dist;
    for i in 0..n {
        let (xi, yi) = xy(&items[i]);
        for j in i + 1..n {
            let (xj, yj) = xy(&items[j]);
            if (xi - xj).powi(2) + (yi - yj).powi(2) < d2 {
                drop[j] = true;
            }
        }
    }
    items.iter().zip(drop).filter(|(_, d)| !d).map(|(t, _)| *t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_filter_window_and_edges() {
        // A single low pixel at (r, c) shows up where the 10×10 window (−5…+4) covers it.
        let (rows, cols) = (30, 40);
        let mut a = vec![100f32; rows * cols];
        a[12 * cols + 20] = 1.0;
        let b = minimum_filter_10(&a, rows, cols);
        for r in 0..rows {
            for c in 0..cols {
                let inside = (r as i64 - 12) >= -4
                    && (r as i64 - 12) <= 5
                    && (c as i64 - 20) >= -4
                    && (c as i64 - 20) <= 5;
                assert_eq!(b[r * cols + c] == 1.0, inside, "({r},{c})");
            }
        }
        // Edge: the first row reflects onto itself.
        let mut e = vec![100f32; rows * cols];
        e[3] = 2.0;
        let b = minimum_filter_10(&e, rows, cols);
        assert_eq!(b[3], 2.0);
        assert_eq!(reflect(-1, 5), 0);
        assert_eq!(reflect(-2, 5), 1);
        assert_eq!(reflect(5, 5), 4);
        assert_eq!(reflect(6, 5), 3);
    }

    #[test]
    fn minimum_filter_equals_brute_force_on_every_small_shape() {
        let mut seed = 12345u64;
        for rows in (1..14).chain([25, 40]) {
            for cols in (1..14).chain([31]) {
                let a: Vec<u16> = (0..rows * cols)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (seed >> 50) as u16
                    })
                    .collect();
                let b = minimum_filter_10(&a, rows, cols);
                for r in 0..rows {
                    for c in 0..cols {
                        let mut m = u16::MAX;
                        for dr in -5..5 {
                            for dc in -5..5 {
                                let rr = reflect(r as isize + dr, rows);
                                let cc = reflect(c as isize + dc, cols);
                                m = m.min(a[rr * cols + cc]);
                            }
                        }
                        assert_eq!(b[r * cols + c], m, "{rows}×{cols} at ({r},{c})");
                    }
                }
            }
        }
    }

    #[test]
    fn blobs_are_4_connected_with_hottest_pixels() {
        let (rows, cols) = (6, 6);
        let mut d = vec![0f32; rows * cols];
        // Two diagonal neighbours: two blobs under 4-connectivity.
        d[cols + 1] = 10.0;
        d[2 * cols + 2] = 12.0;
        // An L-shaped blob with its hottest pixel second.
        d[4 * cols + 3] = 5.0;
        d[4 * cols + 4] = 9.0;
        d[5 * cols + 3] = 7.0;
        let b = blobs_hottest(&d, rows, cols, 4.0);
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].row, b[0].col), (1, 1));
        assert_eq!((b[1].row, b[1].col), (2, 2));
        assert_eq!((b[2].row, b[2].col, b[2].value), (4, 4, 9.0));
        // Threshold is strict.
        assert_eq!(blobs_hottest(&d, rows, cols, 12.0).len(), 0);
        // Diagonal neighbours are merged (< 2 px), the earlier kept.
        let m = merge_close(&b);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].row, m[0].col), (1, 1));
    }

    #[test]
    fn one_pass_method0_equals_the_two_step_version() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (rows, cols) = (97, 131);
        let a: Vec<f32> = (0..rows * cols)
            .map(|_| {
                if rng.random::<f32>() < 0.1 {
                    rng.random_range(0.0..500.0)
                } else {
                    rng.random_range(0.0..60.0)
                }
            })
            .collect();
        for path in [BackgroundPath::MaskedIntegers, BackgroundPath::Formula] {
            for thr in [10.0f32, 50.0, 200.0] {
                let d = detection_image(&a, rows, cols, path, 1.1, 65535.0);
                let two = blobs_hottest(&d, rows, cols, thr);
                let one = local_maxima_method0(&a, None, rows, cols, path, 1.1, 65535.0, thr);
                assert_eq!(one, two, "{path:?} thr {thr}");
            }
        }
    }

    #[test]
    fn purge_is_not_greedy() {
        // A–B and B–C close, A–C far: B and C both go.
        let pts = [(0.0, 0.0), (8.0, 0.0), (16.0, 0.0)];
        let kept = purge_close(&pts, 10.0, |p| *p);
        assert_eq!(kept, vec![(0.0, 0.0)]);
    }

    #[test]
    fn hat_kernel_matches_lauetools_values() {
        let k = hat_kernel(4.0, 5, 2.0);
        assert!((k[12] - 3.653088).abs() < 1e-6, "{}", k[12]);
        assert!((k[0] + 0.475113).abs() < 1e-6);
        assert!((k[2] + 0.346912).abs() < 1e-6);
        assert!((k.iter().sum::<f64>() - 10.992).abs() < 1e-3);
    }
}
