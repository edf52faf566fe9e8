//! A small Levenberg–Marquardt least-squares solver: minimises Σ rᵢ(p)² over a few parameters p with a
//! numerical (central-difference) Jacobian and Marquardt's scaling (the damping is λ·diag(JᵀJ), so parameters
//! in different units — mm, px, degrees — need no rescaling).
//!
//! The residual function returns `None` where the parameters are not acceptable (outside physical bounds, a
//! spot that no longer reaches the detector): such a step is refused as if it had raised the cost, so the
//! solution stays inside the bounds.
//!
//! [`LmFit::covariance`] gives the parameters' covariance at the solution, (JᵀJ)⁻¹·s² with
//! s² = Σ r² / (m − p) (m residuals, p parameters): the usual 1σ estimate when the residuals are independent
//! with a common variance.

use nalgebra::{DMatrix, DVector};

/// The solution of [`levenberg_marquardt`].
#[derive(Debug, Clone, PartialEq)]
pub struct LmFit {
    /// parameters at the minimum
    pub params: Vec<f64>,
    /// Σ r² at the minimum
    pub cost: f64,
    /// number of residuals m
    pub n_residuals: usize,
    /// Jacobian ∂r/∂p at the minimum (m × p)
    pub jacobian: DMatrix<f64>,
    /// accepted or attempted iterations (one Jacobian each)
    pub iterations: usize,
}

impl LmFit {
    /// Covariance of the parameters, (JᵀJ)⁻¹·s² with s² = cost / (m − p); None when m ≤ p or JᵀJ is singular.
    pub fn covariance(&self) -> Option<DMatrix<f64>> {
        let p = self.params.len();
        if self.n_residuals <= p {
            return None;
        }
        let s2 = self.cost / (self.n_residuals - p) as f64;
        let jtj = self.jacobian.transpose() * &self.jacobian;
        let inv = jtj.try_inverse()?;
        Some(inv * s2)
    }

    /// 1σ of each parameter (square roots of the covariance's diagonal); None as for [`LmFit::covariance`].
    pub fn sigmas(&self) -> Option<Vec<f64>> {
        let c = self.covariance()?;
        let s: Vec<f64> = (0..c.nrows()).map(|i| c[(i, i)].max(0.0).sqrt()).collect();
        s.iter().all(|v| v.is_finite()).then_some(s)
    }
}

/// Jacobian of `f` at `p` (residuals `r0`) by central differences with steps `steps`; one-sided where one
/// side is refused, zero where both are.
fn jacobian<F>(f: &F, p: &[f64], r0: &DVector<f64>, steps: &[f64]) -> DMatrix<f64>
where
    F: Fn(&[f64]) -> Option<DVector<f64>>,
{
    let mut jac = DMatrix::zeros(r0.len(), p.len());
    let mut pp = p.to_vec();
    for c in 0..p.len() {
        let h = steps[c];
        pp[c] = p[c] + h;
        let plus = f(&pp).filter(|r| r.len() == r0.len());
        pp[c] = p[c] - h;
        let minus = f(&pp).filter(|r| r.len() == r0.len());
        pp[c] = p[c];
        let col = match (plus, minus) {
            (Some(a), Some(b)) => (a - b) / (2.0 * h),
            (Some(a), None) => (a - r0) / h,
            (None, Some(b)) => (r0 - b) / h,
            (None, None) => continue,
        };
        jac.set_column(c, &col);
    }
    jac
}

/// Minimises Σ r(p)² from `p0`. `steps`: the finite-difference step of each parameter (in its unit, small
/// against its uncertainty, large against rounding: e.g. 1e-4 mm, 1e-3 px, 1e-5°). Stops when a step no
/// longer lowers the cost by a relative 1e-12, or after `max_iterations`. None when `r(p0)` is refused or
/// `steps` does not have one step per parameter.
pub fn levenberg_marquardt<F>(f: F, p0: &[f64], steps: &[f64], max_iterations: usize) -> Option<LmFit>
where
    F: Fn(&[f64]) -> Option<DVector<f64>>,
{
    if p0.len() != steps.len() {
        return None;
    }
    let n = p0.len();
    let mut p = p0.to_vec();
    let mut r = f(&p)?;
    let mut cost = r.norm_squared();
    let mut lambda = 1e-3;
    let mut iterations = 0;
    let mut jac = jacobian(&f, &p, &r, steps);
    while iterations < max_iterations && cost > 0.0 {
        iterations += 1;
        let jtj = jac.transpose() * &jac;
        let jtr = jac.transpose() * &r;
        let mut accepted = None;
        for _ in 0..12 {
            let mut a = jtj.clone();
            for d in 0..n {
                a[(d, d)] += lambda * jtj[(d, d)].max(1e-12);
            }
            let Some(delta) = a.cholesky().map(|c| c.solve(&(-&jtr))) else {
                lambda *= 10.0;
                continue;
            };
            let trial: Vec<f64> = p.iter().zip(delta.iter()).map(|(a, b)| a + b).collect();
            match f(&trial).filter(|rt| rt.len() == r.len()) {
                Some(rt) if rt.norm_squared() < cost => {
                    accepted = Some((trial, rt));
                    lambda = (lambda / 10.0).max(1e-12);
                    break;
                }
                _ => lambda *= 10.0,
            }
        }
        let Some((trial, rt)) = accepted else { break };
        let new_cost = rt.norm_squared();
        let gain = cost - new_cost;
        p = trial;
        r = rt;
        cost = new_cost;
        jac = jacobian(&f, &p, &r, steps);
        if gain <= 1e-12 * cost.max(1e-300) {
            break;
        }
    }
    Some(LmFit { params: p, cost, n_residuals: r.len(), jacobian: jac, iterations })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A straight line y = a·x + b through noisy points: LM gives the linear least-squares answer and its
    /// textbook covariance.
    #[test]
    fn straight_line_and_its_covariance() {
        let xs: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let noise = [0.1, -0.2, 0.05, 0.3, -0.1, 0.0, 0.2, -0.3, 0.1, -0.05];
        let ys: Vec<f64> = xs.iter().enumerate().map(|(i, x)| 2.0 * x + 1.0 + noise[i % 10]).collect();
        let f = |p: &[f64]| {
            Some(DVector::from_iterator(20, xs.iter().zip(&ys).map(|(x, y)| p[0] * x + p[1] - y)))
        };
        let fit = levenberg_marquardt(f, &[0.0, 0.0], &[1e-6, 1e-6], 50).unwrap();
        // Closed form.
        let n = 20.0;
        let (sx, sy) = (xs.iter().sum::<f64>(), ys.iter().sum::<f64>());
        let sxx = xs.iter().map(|x| x * x).sum::<f64>();
        let sxy = xs.iter().zip(&ys).map(|(x, y)| x * y).sum::<f64>();
        let a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        let b = (sy - a * sx) / n;
        assert!((fit.params[0] - a).abs() < 1e-8 && (fit.params[1] - b).abs() < 1e-7, "{:?}", fit.params);
        let s2 = fit.cost / (n - 2.0);
        let var_a = s2 * n / (n * sxx - sx * sx);
        let sig = fit.sigmas().unwrap();
        assert!((sig[0] - var_a.sqrt()).abs() < 1e-8 * var_a.sqrt().max(1.0), "{sig:?} vs {}", var_a.sqrt());
    }

    /// Rosenbrock as residuals (10(y − x²), 1 − x): a curved valley; refused steps (x > 1.5) are avoided.
    #[test]
    fn curved_valley_with_a_bound() {
        let f = |p: &[f64]| {
            (p[0] <= 1.5).then(|| DVector::from_vec(vec![10.0 * (p[1] - p[0] * p[0]), 1.0 - p[0]]))
        };
        let fit = levenberg_marquardt(f, &[-1.2, 1.0], &[1e-7, 1e-7], 200).unwrap();
        assert!((fit.params[0] - 1.0).abs() < 1e-6 && (fit.params[1] - 1.0).abs() < 1e-6, "{:?}", fit.params);
        assert!(fit.covariance().is_none(), "two residuals, two parameters: no degrees of freedom");
        assert!(levenberg_marquardt(f, &[2.0, 0.0], &[1e-7, 1e-7], 10).is_none());
    }
}
