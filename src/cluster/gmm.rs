//! Variational Bayesian Gaussian mixture with full covariances: soft clustering that also estimates how many
//! clusters the data hold. Given an upper bound K on the number of components, the weights of the components
//! the data do not need shrink towards zero; the **effective number of clusters** is the number of components
//! whose weight exceeds a threshold (default 0.01).
//!
//! Model (Bishop, *Pattern Recognition and Machine Learning*, §10.2; Blei & Jordan, Bayesian Analysis 1, 121,
//! 2006), the same as scikit-learn's `BayesianGaussianMixture(covariance_type='full')`:
//!
//! * weights π: either a truncated **Dirichlet process** (stick breaking, `weight_concentration_prior_type=
//!   'dirichlet_process'`, the default: πₖ = vₖ·Πⱼ₍ⱼ₍ₖ₎(1 − vⱼ), vₖ ~ Beta(1, γ)) or a finite **Dirichlet
//!   distribution** (`'dirichlet_distribution'`: π ~ Dir(α₀, …, α₀)); γ or α₀ is the weight concentration
//!   prior, default 1/K. A small value favours few components.
//! * means and precisions: Gaussian–Wishart, μₖ | Λₖ ~ N(m₀, (β₀·Λₖ)⁻¹), Λₖ ~ W(W₀, ν₀), with defaults
//!   m₀ = the data mean, β₀ = 1, ν₀ = d, W₀⁻¹ = the empirical covariance of the data (n − 1 normalisation).
//! * a regularisation `reg_covar` (default 10⁻⁶, feature units squared) is added to the diagonal of every
//!   component's scatter matrix.
//!
//! The posterior is approximated by a factorised q (mean field); coordinate ascent alternates the E-step
//! (responsibilities from the expected log weights, log determinants and Mahalanobis distances) and the M-step
//! (the Dirichlet/Beta, Gaussian and Wishart parameters from the responsibility-weighted counts, means and
//! scatter matrices). Iterations stop when the evidence lower bound changes by less than `tol` (absolute,
//! default 10⁻³) or after `max_iter` (default 100). The lower bound is scikit-learn's: the ELBO without the
//! terms that are constant in the variational parameters, so values can be compared with
//! `BayesianGaussianMixture.lower_bounds_` directly.
//!
//! Initialisation: one-hot responsibilities from a K-means run (K = the component count, one k-means++ draw,
//! as scikit-learn's `init_params='kmeans'`), or from given labels. With `n_init` > 1 the run with the
//! highest final lower bound is kept. The reported responsibilities and labels come from a last E-step with
//! the kept parameters.
//!
//! Cost per iteration O(n·K·d²) time and O(n·K) memory; run it on PCA scores (d ≈ 5–30), not on pixels.

use nalgebra::{Cholesky, DMatrix};
use serde::{Deserialize, Serialize};

use super::kmeans::{KMeansSettings, kmeans};
use super::{MatRef, Matrix, check_data, column_means, invalid};
use crate::error::Result;

/// The prior on the mixture weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WeightPrior {
    /// Truncated Dirichlet process (stick breaking): scikit-learn's `'dirichlet_process'`.
    #[default]
    DirichletProcess,
    /// Finite symmetric Dirichlet distribution: scikit-learn's `'dirichlet_distribution'`.
    DirichletDistribution,
}

/// Where the responsibilities start.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BgmInit {
    /// Hard labels from K-means with K = the component count (one k-means++ draw, seeded).
    #[default]
    KMeans,
    /// Hard labels given per point (length n, values < the component count).
    Labels(Vec<usize>),
}

/// Settings of [`bayesian_gmm`]; `None` priors take their data-driven defaults (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BgmSettings {
    /// maximum number of components K
    pub n_components: usize,
    pub weight_prior: WeightPrior,
    /// γ (Dirichlet process) or α₀ (Dirichlet distribution), > 0; default 1/K
    pub weight_concentration_prior: Option<f64>,
    /// β₀ > 0: prior precision of the means, in units of the component precision
    pub mean_precision_prior: f64,
    /// m₀ (length d); default the data mean
    pub mean_prior: Option<Vec<f64>>,
    /// ν₀ > d − 1; default d
    pub degrees_of_freedom_prior: Option<f64>,
    /// W₀⁻¹ (d × d, row-major, symmetric positive definite; feature units squared); default the empirical
    /// covariance
    pub covariance_prior: Option<Vec<f64>>,
    /// added to the diagonal of each component's scatter matrix (feature units squared)
    pub reg_covar: f64,
    /// convergence: absolute change of the lower bound
    pub tol: f64,
    pub max_iter: usize,
    /// restarts (K-means init with seeds seed, seed + 1, …); the highest lower bound is kept
    pub n_init: usize,
    pub seed: u64,
    /// components with a weight above this count as effective clusters
    pub weight_threshold: f64,
    pub init: BgmInit,
}

impl Default for BgmSettings {
    fn default() -> Self {
        BgmSettings {
            n_components: 10,
            weight_prior: WeightPrior::DirichletProcess,
            weight_concentration_prior: None,
            mean_precision_prior: 1.0,
            mean_prior: None,
            degrees_of_freedom_prior: None,
            covariance_prior: None,
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 100,
            n_init: 1,
            seed: 0,
            weight_threshold: 0.01,
            init: BgmInit::KMeans,
        }
    }
}

impl BgmSettings {
    /// Defaults (scikit-learn's) with at most `n_components` components.
    pub fn new(n_components: usize) -> Self {
        BgmSettings { n_components, ..Default::default() }
    }
}

/// A fitted variational Bayesian Gaussian mixture of K components in d dimensions, with the fit's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BayesianGmm {
    pub weight_prior: WeightPrior,
    /// expected mixture weights (length K, sum 1), in component order
    pub weights: Vec<f64>,
    /// posterior means mₖ, K × d
    pub means: Matrix,
    /// expected covariances (ν·W)⁻¹ per component, K matrices d × d (feature units squared)
    pub covariances: Vec<Matrix>,
    /// posterior Dirichlet / Beta parameters: αₖ (both priors) …
    pub weight_concentration_a: Vec<f64>,
    /// … and the Beta's second parameter (Dirichlet process only; empty otherwise)
    pub weight_concentration_b: Vec<f64>,
    /// posterior βₖ (length K)
    pub mean_precision: Vec<f64>,
    /// posterior νₖ (length K)
    pub degrees_of_freedom: Vec<f64>,
    /// upper-triangular P with P·Pᵀ = ν·W (the expected precision), K × d × d row-major
    pub precisions_cholesky: Vec<f64>,
    /// responsibilities of the training points, n × K (rows sum to 1)
    pub responsibilities: Matrix,
    /// most responsible component of every training point (length n)
    pub labels: Vec<usize>,
    /// number of components with weight > `weight_threshold`
    pub effective_components: usize,
    /// the threshold used for `effective_components`
    pub weight_threshold: f64,
    /// lower bound after each iteration of the kept run
    pub lower_bounds: Vec<f64>,
    /// final lower bound of the kept run
    pub lower_bound: f64,
    /// iterations of the kept run
    pub iterations: usize,
    /// whether the kept run reached `tol` within `max_iter`
    pub converged: bool,
}

impl BayesianGmm {
    /// Number of components K.
    pub fn n_components(&self) -> usize {
        self.weights.len()
    }

    /// The components with weight above `threshold`, by decreasing weight.
    pub fn active_components(&self, threshold: f64) -> Vec<usize> {
        let mut a: Vec<usize> = (0..self.weights.len()).filter(|&k| self.weights[k] > threshold).collect();
        a.sort_by(|&i, &j| self.weights[j].total_cmp(&self.weights[i]));
        a
    }

    /// Responsibilities of new rows `x` (m × d): m × K.
    pub fn predict_proba(&self, x: MatRef<'_>) -> Result<Matrix> {
        check_data(x, "Bayesian mixture input")?;
        if x.cols() != self.means.cols {
            return Err(invalid(format!(
                "Bayesian mixture: {} columns, the fit had {}",
                x.cols(),
                self.means.cols
            )));
        }
        self.check_shapes()?;
        let params = Params::from_model(self);
        let mut log_resp = vec![0.0; x.rows() * params.k];
        params.e_step(x, &mut log_resp);
        log_resp.iter_mut().for_each(|v| *v = v.exp());
        Matrix::new(x.rows(), params.k, log_resp)
    }

    /// Every parameter has the length K and d require (a model read back from JSON may not).
    fn check_shapes(&self) -> Result<()> {
        let (k, d) = (self.weights.len(), self.means.cols);
        let dp = self.weight_prior == WeightPrior::DirichletProcess;
        let ok = k > 0
            && self.means.rows == k
            && self.means.data.len() == k * d
            && self.covariances.len() == k
            && self.covariances.iter().all(|c| c.rows == d && c.cols == d && c.data.len() == d * d)
            && self.weight_concentration_a.len() == k
            && self.weight_concentration_b.len() == if dp { k } else { 0 }
            && self.mean_precision.len() == k
            && self.degrees_of_freedom.len() == k
            && self.precisions_cholesky.len() == k * d * d;
        if ok { Ok(()) } else { Err(invalid("Bayesian mixture: inconsistent parameter shapes")) }
    }

    /// Most responsible component of each row of `x` (m × d).
    pub fn predict(&self, x: MatRef<'_>) -> Result<Vec<usize>> {
        let r = self.predict_proba(x)?;
        Ok((0..r.rows).map(|i| argmax(r.row(i))).collect())
    }
}

/// Index of the largest value (first on ties).
fn argmax(v: &[f64]) -> usize {
    let mut b = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[b] {
            b = i;
        }
    }
    b
}

/// The priors, resolved against the data.
struct Priors {
    /// γ or α₀
    concentration: f64,
    beta0: f64,
    m0: Vec<f64>,
    nu0: f64,
    /// W₀⁻¹, d × d row-major
    w0_inv: Vec<f64>,
    reg_covar: f64,
}

/// The variational parameters.
#[derive(Clone)]
struct Params {
    prior: WeightPrior,
    k: usize,
    d: usize,
    wa: Vec<f64>,
    wb: Vec<f64>,
    beta: Vec<f64>,
    /// K × d
    means: Vec<f64>,
    nu: Vec<f64>,
    /// K × d × d, (ν·W)⁻¹
    cov: Vec<f64>,
    /// K × d × d, upper triangular P, P·Pᵀ = ν·W
    pchol: Vec<f64>,
    /// Σ log diag P per component
    log_det_p: Vec<f64>,
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

impl Params {
    fn new(prior: WeightPrior, k: usize, d: usize) -> Self {
        Params {
            prior,
            k,
            d,
            wa: vec![0.0; k],
            wb: if prior == WeightPrior::DirichletProcess { vec![0.0; k] } else { Vec::new() },
            beta: vec![0.0; k],
            means: vec![0.0; k * d],
            nu: vec![0.0; k],
            cov: vec![0.0; k * d * d],
            pchol: vec![0.0; k * d * d],
            log_det_p: vec![0.0; k],
        }
    }

    fn from_model(m: &BayesianGmm) -> Self {
        let (k, d) = (m.weights.len(), m.means.cols);
        let log_det_p =
            (0..k).map(|c| (0..d).map(|i| m.precisions_cholesky[c * d * d + i * d + i].ln()).sum()).collect();
        Params {
            prior: m.weight_prior,
            k,
            d,
            wa: m.weight_concentration_a.clone(),
            wb: m.weight_concentration_b.clone(),
            beta: m.mean_precision.clone(),
            means: m.means.data.clone(),
            nu: m.degrees_of_freedom.clone(),
            cov: m.covariances.iter().flat_map(|c| c.data.iter().copied()).collect(),
            pchol: m.precisions_cholesky.clone(),
            log_det_p,
        }
    }

    /// Expected log weights E[ln πₖ].
    fn log_weights(&self) -> Vec<f64> {
        match self.prior {
            WeightPrior::DirichletProcess => {
                let mut out = Vec::with_capacity(self.k);
                let mut rest = 0.0; // Σ_{j<k} E[ln(1 − vⱼ)]
                for c in 0..self.k {
                    let ds = digamma(self.wa[c] + self.wb[c]);
                    out.push(digamma(self.wa[c]) - ds + rest);
                    rest += digamma(self.wb[c]) - ds;
                }
                out
            }
            WeightPrior::DirichletDistribution => {
                let ds = digamma(self.wa.iter().sum());
                self.wa.iter().map(|&a| digamma(a) - ds).collect()
            }
        }
    }

    /// Expected weights: normalised stick-breaking means, or α / Σα.
    fn weights(&self) -> Vec<f64> {
        let mut w: Vec<f64> = match self.prior {
            WeightPrior::DirichletProcess => {
                let mut left = 1.0;
                (0..self.k)
                    .map(|c| {
                        let s = self.wa[c] + self.wb[c];
                        let w = self.wa[c] / s * left;
                        left *= self.wb[c] / s;
                        w
                    })
                    .collect()
            }
            WeightPrior::DirichletDistribution => self.wa.clone(),
        };
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
        w
    }

    /// E-step: log responsibilities (n × K) into `log_resp`; returns the mean log normaliser.
    fn e_step(&self, x: MatRef<'_>, log_resp: &mut [f64]) -> f64 {
        let (k, d) = (self.k, self.d);
        let log_w = self.log_weights();
        let df = d as f64;
        let constant: Vec<f64> = (0..k)
            .map(|c| {
                let nu = self.nu[c];
                let log_lambda =
                    df * std::f64::consts::LN_2 + (0..d).map(|i| digamma(0.5 * (nu - i as f64))).sum::<f64>();
                -0.5 * df * LN_2PI + self.log_det_p[c] - 0.5 * df * nu.ln()
                    + 0.5 * (log_lambda - df / self.beta[c])
                    + log_w[c]
            })
            .collect();
        let mut diff = vec![0.0; d];
        let mut y = vec![0.0; d];
        let mut total = 0.0;
        for i in 0..x.rows() {
            let xi = x.row(i);
            let row = &mut log_resp[i * k..(i + 1) * k];
            for c in 0..k {
                for ((t, v), m) in diff.iter_mut().zip(xi).zip(&self.means[c * d..(c + 1) * d]) {
                    *t = v - m;
                }
                // y = diffᵀ·P, P upper triangular
                y.iter_mut().for_each(|v| *v = 0.0);
                let p = &self.pchol[c * d * d..(c + 1) * d * d];
                for (a, &da) in diff.iter().enumerate() {
                    let prow = &p[a * d..(a + 1) * d];
                    for (yb, pb) in y[a..].iter_mut().zip(&prow[a..]) {
                        *yb += da * pb;
                    }
                }
                let maha: f64 = y.iter().map(|v| v * v).sum();
                row[c] = constant[c] - 0.5 * maha;
            }
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            row.iter_mut().for_each(|v| *v -= lse);
            total += lse;
        }
        total / x.rows() as f64
    }

    /// M-step from responsibilities `resp` (n × K).
    fn m_step(&mut self, x: MatRef<'_>, resp: &[f64], pr: &Priors) -> Result<()> {
        let (n, k, d) = (x.rows(), self.k, self.d);
        let mut nk = vec![10.0 * f64::EPSILON; k];
        let mut xk = vec![0.0; k * d];
        for i in 0..n {
            let xi = x.row(i);
            for c in 0..k {
                let r = resp[i * k + c];
                if r != 0.0 {
                    nk[c] += r;
                    for (s, v) in xk[c * d..(c + 1) * d].iter_mut().zip(xi) {
                        *s += r * v;
                    }
                }
            }
        }
        for c in 0..k {
            xk[c * d..(c + 1) * d].iter_mut().for_each(|v| *v /= nk[c]);
        }
        // scatter matrices Sₖ (upper triangle accumulated, then mirrored)
        let mut sk = vec![0.0; k * d * d];
        let mut diff = vec![0.0; d];
        for i in 0..n {
            let xi = x.row(i);
            for c in 0..k {
                let r = resp[i * k + c];
                if r == 0.0 {
                    continue;
                }
                for ((t, v), m) in diff.iter_mut().zip(xi).zip(&xk[c * d..(c + 1) * d]) {
                    *t = v - m;
                }
                let s = &mut sk[c * d * d..(c + 1) * d * d];
                for a in 0..d {
                    let ra = r * diff[a];
                    for (sb, db) in s[a * d + a..(a + 1) * d].iter_mut().zip(&diff[a..]) {
                        *sb += ra * db;
                    }
                }
            }
        }
        // weights
        match self.prior {
            WeightPrior::DirichletProcess => {
                let mut tail = 0.0;
                for c in (0..k).rev() {
                    self.wa[c] = 1.0 + nk[c];
                    self.wb[c] = pr.concentration + tail;
                    tail += nk[c];
                }
            }
            WeightPrior::DirichletDistribution => {
                for (a, n) in self.wa.iter_mut().zip(&nk) {
                    *a = pr.concentration + n;
                }
            }
        }
        for c in 0..k {
            let nkc = nk[c];
            self.beta[c] = pr.beta0 + nkc;
            self.nu[c] = pr.nu0 + nkc;
            for j in 0..d {
                self.means[c * d + j] = (pr.beta0 * pr.m0[j] + nkc * xk[c * d + j]) / self.beta[c];
            }
            let coef = nkc * pr.beta0 / self.beta[c];
            let mut cov = DMatrix::zeros(d, d);
            for a in 0..d {
                let ea = xk[c * d + a] - pr.m0[a];
                for b in a..d {
                    let eb = xk[c * d + b] - pr.m0[b];
                    let mut s = sk[c * d * d + a * d + b] / nkc;
                    if a == b {
                        s += pr.reg_covar;
                    }
                    let v = (pr.w0_inv[a * d + b] + nkc * s + coef * ea * eb) / self.nu[c];
                    cov[(a, b)] = v;
                    cov[(b, a)] = v;
                }
            }
            let (p, log_det) = precision_cholesky(&cov).ok_or_else(|| {
                invalid(format!(
                    "Bayesian mixture: covariance of component {c} is not positive definite \
                     (degenerate data; increase reg_covar)"
                ))
            })?;
            for a in 0..d {
                for b in 0..d {
                    self.cov[c * d * d + a * d + b] = cov[(a, b)];
                    self.pchol[c * d * d + a * d + b] = p[(a, b)];
                }
            }
            self.log_det_p[c] = log_det;
        }
        Ok(())
    }

    /// scikit-learn's lower bound (constants dropped) from the E-step's log responsibilities.
    fn lower_bound(&self, log_resp: &[f64]) -> f64 {
        let df = self.d as f64;
        let mut log_wishart = 0.0;
        for c in 0..self.k {
            let nu = self.nu[c];
            let log_det_chol = self.log_det_p[c] - 0.5 * df * nu.ln();
            let lg: f64 = (0..self.d).map(|i| ln_gamma(0.5 * (nu - i as f64))).sum();
            log_wishart += -(nu * log_det_chol + nu * df * 0.5 * std::f64::consts::LN_2 + lg);
        }
        let log_norm_weight = match self.prior {
            WeightPrior::DirichletProcess => -(0..self.k)
                .map(|c| ln_gamma(self.wa[c]) + ln_gamma(self.wb[c]) - ln_gamma(self.wa[c] + self.wb[c]))
                .sum::<f64>(),
            WeightPrior::DirichletDistribution => {
                ln_gamma(self.wa.iter().sum()) - self.wa.iter().map(|&a| ln_gamma(a)).sum::<f64>()
            }
        };
        let entropy: f64 = -log_resp.iter().filter(|v| v.is_finite()).map(|&l| l.exp() * l).sum::<f64>();
        entropy - log_wishart - log_norm_weight - 0.5 * df * self.beta.iter().map(|b| b.ln()).sum::<f64>()
    }
}

/// For a covariance Σ = L·Lᵀ: the upper-triangular P = L⁻ᵀ (P·Pᵀ = Σ⁻¹) and ln det P = −Σ ln Lᵢᵢ.
fn precision_cholesky(cov: &DMatrix<f64>) -> Option<(DMatrix<f64>, f64)> {
    let d = cov.nrows();
    let l = Cholesky::new(cov.clone())?.l();
    let l_inv = l.solve_lower_triangular(&DMatrix::identity(d, d))?;
    let log_det = -(0..d).map(|i| l[(i, i)].ln()).sum::<f64>();
    log_det.is_finite().then(|| (l_inv.transpose(), log_det))
}

/// Fit a variational Bayesian Gaussian mixture to the rows of `x` (n × d); see the module doc.
pub fn bayesian_gmm(x: MatRef<'_>, s: &BgmSettings) -> Result<BayesianGmm> {
    check_data(x, "Bayesian mixture input")?;
    let (n, d, k) = (x.rows(), x.cols(), s.n_components);
    if n < 2 {
        return Err(invalid(format!("Bayesian mixture needs at least 2 points, got {n}")));
    }
    if k == 0 || k > n {
        return Err(invalid(format!("Bayesian mixture: {k} components for {n} points, need 1 ≤ K ≤ n")));
    }
    if let BgmInit::Labels(l) = &s.init
        && (l.len() != n || l.iter().any(|&v| v >= k))
    {
        return Err(invalid(format!("Bayesian mixture: initial labels need {n} values below {k}")));
    }
    let positive = |v: f64, what: &str| {
        if v > 0.0 && v.is_finite() {
            Ok(v)
        } else {
            Err(invalid(format!("Bayesian mixture: {what} = {v}, need > 0")))
        }
    };
    let concentration =
        positive(s.weight_concentration_prior.unwrap_or(1.0 / k as f64), "weight_concentration_prior")?;
    let beta0 = positive(s.mean_precision_prior, "mean_precision_prior")?;
    let nu0 = s.degrees_of_freedom_prior.unwrap_or(d as f64);
    if !(nu0 > d as f64 - 1.0 && nu0.is_finite()) {
        return Err(invalid(format!(
            "Bayesian mixture: degrees_of_freedom_prior = {nu0}, need > d − 1 = {}",
            d - 1
        )));
    }
    if !(s.reg_covar >= 0.0 && s.reg_covar.is_finite() && s.tol >= 0.0 && s.tol.is_finite()) {
        return Err(invalid(format!(
            "Bayesian mixture: reg_covar = {}, tol = {}: need ≥ 0",
            s.reg_covar, s.tol
        )));
    }
    let m0 = match &s.mean_prior {
        Some(m) if m.len() == d && m.iter().all(|v| v.is_finite()) => m.clone(),
        Some(m) => {
            return Err(invalid(format!(
                "Bayesian mixture: mean_prior has {} values, need {d} finite",
                m.len()
            )));
        }
        None => column_means(x),
    };
    let w0_inv = match &s.covariance_prior {
        Some(c) => {
            let m = DMatrix::from_row_slice(d, d, if c.len() == d * d { c } else { &[] as &[f64] });
            if c.len() != d * d || Cholesky::new(m).is_none() {
                return Err(invalid(format!(
                    "Bayesian mixture: covariance_prior must be {d}×{d} positive definite"
                )));
            }
            c.clone()
        }
        None => empirical_covariance(x),
    };
    let pr = Priors { concentration, beta0, m0, nu0, w0_inv, reg_covar: s.reg_covar };

    let mut best: Option<(Params, Vec<f64>, usize, bool)> = None;
    let mut log_resp = vec![0.0; n * k];
    let mut resp = vec![0.0; n * k];
    for run in 0..s.n_init.max(1) {
        let labels = match &s.init {
            BgmInit::Labels(l) => l.clone(),
            BgmInit::KMeans => {
                let ks = KMeansSettings {
                    k,
                    n_init: 1,
                    seed: s.seed.wrapping_add(run as u64),
                    ..Default::default()
                };
                kmeans(x, &ks)?.labels
            }
        };
        resp.iter_mut().for_each(|v| *v = 0.0);
        for (i, &l) in labels.iter().enumerate() {
            resp[i * k + l] = 1.0;
        }
        let mut p = Params::new(s.weight_prior, k, d);
        p.m_step(x, &resp, &pr)?;
        let mut lb = f64::NEG_INFINITY;
        let mut history = Vec::new();
        let mut converged = false;
        let mut iterations = 0;
        for it in 1..=s.max_iter {
            iterations = it;
            let prev = lb;
            p.e_step(x, &mut log_resp);
            for (r, l) in resp.iter_mut().zip(&log_resp) {
                *r = l.exp();
            }
            p.m_step(x, &resp, &pr)?;
            lb = p.lower_bound(&log_resp);
            history.push(lb);
            if (lb - prev).abs() < s.tol {
                converged = true;
                break;
            }
        }
        if best.as_ref().is_none_or(|b| b.1.last().copied().unwrap_or(f64::NEG_INFINITY) < lb) {
            best = Some((p, history, iterations, converged));
        }
    }
    let (p, lower_bounds, iterations, converged) = best.ok_or_else(|| invalid("Bayesian mixture: no run"))?;
    p.e_step(x, &mut log_resp);
    log_resp.iter_mut().for_each(|v| *v = v.exp());
    let responsibilities = Matrix::new(n, k, log_resp)?;
    let labels = (0..n).map(|i| argmax(responsibilities.row(i))).collect();
    let weights = p.weights();
    let effective_components = weights.iter().filter(|&&w| w > s.weight_threshold).count();
    let covariances = (0..k)
        .map(|c| Matrix { rows: d, cols: d, data: p.cov[c * d * d..(c + 1) * d * d].to_vec() })
        .collect();
    Ok(BayesianGmm {
        weight_prior: p.prior,
        weights,
        means: Matrix { rows: k, cols: d, data: p.means },
        covariances,
        weight_concentration_a: p.wa,
        weight_concentration_b: p.wb,
        mean_precision: p.beta,
        degrees_of_freedom: p.nu,
        precisions_cholesky: p.pchol,
        responsibilities,
        labels,
        effective_components,
        weight_threshold: s.weight_threshold,
        lower_bound: lower_bounds.last().copied().unwrap_or(f64::NEG_INFINITY),
        lower_bounds,
        iterations,
        converged,
    })
}

/// Sample covariance of the columns (n − 1 normalisation), d × d row-major.
fn empirical_covariance(x: MatRef<'_>) -> Vec<f64> {
    let (n, d) = (x.rows(), x.cols());
    let mean = column_means(x);
    let mut c = vec![0.0; d * d];
    let mut diff = vec![0.0; d];
    for i in 0..n {
        for ((t, v), m) in diff.iter_mut().zip(x.row(i)).zip(&mean) {
            *t = v - m;
        }
        for a in 0..d {
            for b in a..d {
                c[a * d + b] += diff[a] * diff[b];
            }
        }
    }
    for a in 0..d {
        for b in a..d {
            let v = c[a * d + b] / (n - 1) as f64;
            c[a * d + b] = v;
            c[b * d + a] = v;
        }
    }
    c
}

/// ψ(x), the digamma function, for x > 0: recurrence up to x ≥ 10, then the asymptotic series (|error| < 1e-14).
fn digamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 10.0 {
        r -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let series = f
        * (1.0 / 12.0
            - f * (1.0 / 120.0
                - f * (1.0 / 252.0 - f * (1.0 / 240.0 - f * (1.0 / 132.0 - f * 691.0 / 32760.0)))));
    r + x.ln() - 0.5 / x - series
}

/// ln Γ(x) for x > 0: recurrence up to x ≥ 10, then Stirling's series (|error| < 1e-13 + rounding of the terms).
fn ln_gamma(mut x: f64) -> f64 {
    let mut prod = 1.0;
    while x < 10.0 {
        prod *= x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let series = (1.0 / 12.0
        - f * (1.0 / 360.0
            - f * (1.0 / 1260.0 - f * (1.0 / 1680.0 - f * (1.0 / 1188.0 - f * 691.0 / 360_360.0)))))
        / x;
    (x - 0.5) * x.ln() - x + 0.5 * LN_2PI + series - prod.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::{ari, blobs, floats, matrix, reference, usizes};

    #[test]
    fn special_functions() {
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-14);
        assert!((digamma(0.5) + euler + 2.0 * std::f64::consts::LN_2).abs() < 1e-14);
        assert!((digamma(1e-3) - (-1000.5755719318103)).abs() < 1e-10);
        assert!((digamma(150.25) - 5.008_969_095_021_217).abs() < 1e-13);
        assert!((ln_gamma(0.5) - 0.5 * std::f64::consts::PI.ln()).abs() < 1e-14);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(1.0)).abs() < 1e-14 && (ln_gamma(2.0)).abs() < 1e-14);
        assert!((ln_gamma(1e-3) - 6.907_178_885_383_853).abs() < 1e-12);
        assert!((ln_gamma(100.0) - 359.134_205_369_575_4).abs() < 1e-11);
    }

    fn check(key: &str, prior: WeightPrior) {
        let r = reference();
        let x = matrix(&r["blobs"]["x"]);
        let sk = &r[key];
        let k = sk["n_components"].as_u64().unwrap() as usize;
        // from scikit-learn's own K-means start: the same run
        let s = BgmSettings {
            weight_prior: prior,
            max_iter: 500,
            init: BgmInit::Labels(usizes(&sk["init_labels"])),
            ..BgmSettings::new(k)
        };
        let g = bayesian_gmm(x.view(), &s).unwrap();
        let w = floats(&sk["weights"]);
        assert_eq!(w.len(), k);
        for (c, (a, b)) in g.weights.iter().zip(&w).enumerate() {
            assert!((a - b).abs() < 1e-12, "{key} weight {c}: {a} vs {b}");
        }
        let lbs = floats(&sk["lower_bounds"]);
        assert_eq!(g.lower_bounds.len(), lbs.len(), "{key} iterations");
        for (a, b) in g.lower_bounds.iter().zip(&lbs) {
            assert!((a - b).abs() < 1e-12 * b.abs(), "{key} lower bound {a} vs {b}");
        }
        assert_eq!(g.converged, sk["converged"].as_bool().unwrap());
        assert_eq!(g.labels, usizes(&sk["labels"]));
        let means = matrix(&sk["means"]);
        assert!(g.means.data.iter().zip(&means.data).all(|(a, b)| (a - b).abs() < 1e-10));
        assert_eq!(g.effective_components, sk["effective_components_0_01"].as_u64().unwrap() as usize);

        // from our own K-means start: same effective number, weights sorted within 1e-2
        let own = bayesian_gmm(
            x.view(),
            &BgmSettings { weight_prior: prior, max_iter: 500, ..BgmSettings::new(k) },
        )
        .unwrap();
        assert!(own.converged);
        assert_eq!(own.effective_components, g.effective_components);
        let mut ws = own.weights.clone();
        ws.sort_by(|a, b| b.total_cmp(a));
        for (a, b) in ws.iter().zip(floats(&sk["weights_sorted"])) {
            assert!((a - b).abs() < 1e-2, "{key}: sorted weights {ws:?}");
        }
        assert!(ari(&own.labels, &usizes(&r["blobs"]["truth"])) > 0.99);
        // rows of the responsibilities sum to 1, predictions agree with the labels
        for i in 0..x.rows {
            assert!((own.responsibilities.row(i).iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert_eq!(own.predict(x.view()).unwrap(), own.labels);
    }

    #[test]
    fn dirichlet_process_matches_scikit_learn() {
        check("bgm_blobs_dp", WeightPrior::DirichletProcess);
    }

    #[test]
    fn dirichlet_distribution_matches_scikit_learn() {
        check("bgm_blobs_dd", WeightPrior::DirichletDistribution);
    }

    #[test]
    fn finds_the_number_of_blobs() {
        let (x, truth) = blobs(400, 3, 4, 0.5, 2);
        let g = bayesian_gmm(x.view(), &BgmSettings { n_init: 2, ..BgmSettings::new(8) }).unwrap();
        assert_eq!(g.effective_components, 4, "{:?}", g.weights);
        assert!(ari(&g.labels, &truth) > 0.99);
        assert!(g.lower_bounds.windows(2).all(|w| w[1] >= w[0] - 1e-6 * w[0].abs()), "{:?}", g.lower_bounds);
    }

    #[test]
    #[ignore = "timing printout; run with cargo test --release -- --ignored"]
    fn timing_6000x10() {
        let (x, _) = blobs(6000, 10, 8, 2.0, 5);
        for k in [8, 16, 32] {
            let t = std::time::Instant::now();
            let g = bayesian_gmm(x.view(), &BgmSettings::new(k)).unwrap();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            println!(
                "Bayesian mixture 6000×10, K={k}: {ms:.0} ms, {} iterations ({:.1} ms each), {} effective",
                g.iterations,
                ms / g.iterations as f64,
                g.effective_components
            );
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let (x, _) = blobs(20, 2, 2, 0.5, 1);
        assert!(bayesian_gmm(x.view(), &BgmSettings::new(0)).is_err());
        assert!(bayesian_gmm(x.view(), &BgmSettings::new(21)).is_err());
        let s = BgmSettings { degrees_of_freedom_prior: Some(0.5), ..BgmSettings::new(2) };
        assert!(bayesian_gmm(x.view(), &s).is_err());
        let s = BgmSettings { covariance_prior: Some(vec![1.0, 2.0, 2.0, 1.0]), ..BgmSettings::new(2) };
        assert!(bayesian_gmm(x.view(), &s).is_err());
        let s = BgmSettings { init: BgmInit::Labels(vec![0; 19]), ..BgmSettings::new(2) };
        assert!(bayesian_gmm(x.view(), &s).is_err());
        // a constant column: the prior covariance is singular, reg_covar keeps the components defined
        let mut c = x.clone();
        (0..20).for_each(|i| c.data[i * 2 + 1] = 3.0);
        let g = bayesian_gmm(c.view(), &BgmSettings::new(3)).unwrap();
        assert!(g.weights.iter().all(|w| w.is_finite()));
    }
}
