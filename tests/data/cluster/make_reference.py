#!/usr/bin/env python3
"""Reference numbers for lauekit's src/cluster/ (PCA, K-means, scores, Bayesian Gaussian mixture).

Writes tests/data/cluster/reference.json: two small fixed datasets and what scikit-learn computes on them. The
Rust unit tests in src/cluster/ read that file and compare.

Regenerate with (scikit-learn >= 1.5, for PCA's sign convention: largest |loading| of each component positive):

    python3 -m venv $HOME/.cache/lauekit/venv-sklearn
    $HOME/.cache/lauekit/venv-sklearn/bin/pip install scikit-learn numpy
    $HOME/.cache/lauekit/venv-sklearn/bin/python tests/data/cluster/make_reference.py

Datasets:
  blobs — 3 Gaussian blobs in 4-D, 150 points (make_blobs, random_state=7): n > d, PCA by the d × d covariance.
  wide  — 20 points in 60-D: a rank-3 signal plus noise (seeded): d > n, PCA by the n × n Gram matrix.
"""

import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import BayesianGaussianMixture


class BgmFromLabels(BayesianGaussianMixture):
    """BayesianGaussianMixture started from given hard labels (the K-means init, made reproducible)."""

    def __init__(self, init_labels=None, **kw):
        super().__init__(**kw)
        self.init_labels = init_labels

    def _initialize_parameters(self, X, random_state, xp=None):
        resp = np.zeros((X.shape[0], self.n_components))
        resp[np.arange(X.shape[0]), self.init_labels] = 1.0
        self._initialize(X, resp)


def pca_reference(X, k):
    p = PCA(n_components=k, svd_solver="full").fit(X)
    return {
        "k": k,
        "mean": p.mean_.tolist(),
        "explained_variance": p.explained_variance_.tolist(),
        "explained_variance_ratio": p.explained_variance_ratio_.tolist(),
        "components": p.components_.tolist(),
        "transformed": p.transform(X).tolist(),
    }


def scores(X, labels):
    return {
        "labels": [int(v) for v in labels],
        "silhouette": float(silhouette_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
    }


def bgm_reference(X, prior_type, n_components, seed):
    # scikit-learn's own K-means init, reproduced: KMeans(n_init=1) on the estimator's RandomState.
    init = KMeans(n_clusters=n_components, n_init=1, random_state=np.random.RandomState(seed)).fit(X).labels_
    common = dict(
        n_components=n_components,
        weight_concentration_prior_type=prior_type,
        covariance_type="full",
        max_iter=500,
        random_state=seed,
    )
    own = BayesianGaussianMixture(**common).fit(X)
    b = BgmFromLabels(init_labels=init, **common).fit(X)
    assert np.allclose(own.weights_, b.weights_) and own.n_iter_ == b.n_iter_, "init labels not reproduced"
    return {
        "prior_type": prior_type,
        "n_components": n_components,
        "init_labels": [int(v) for v in init],
        "weights": b.weights_.tolist(),
        "weights_sorted": sorted(b.weights_.tolist(), reverse=True),
        "effective_components_0_01": int((b.weights_ > 0.01).sum()),
        "lower_bound": float(b.lower_bound_),
        "lower_bounds": [float(v) for v in b.lower_bounds_],
        "n_iter": int(b.n_iter_),
        "converged": bool(b.converged_),
        "labels": [int(v) for v in b.predict(X)],
        "means": b.means_.tolist(),
    }


def main():
    X, truth = make_blobs(n_samples=150, n_features=4, centers=3, cluster_std=1.0, random_state=7)

    rng = np.random.default_rng(11)
    z = rng.normal(size=(20, 3)) * np.array([5.0, 3.0, 1.5])
    a = rng.normal(size=(3, 60))
    W = z @ a + 0.2 * rng.normal(size=(20, 60)) + 1.0

    km = {}
    for k in (3, 5):
        m = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
        km[str(k)] = {"inertia": float(m.inertia_), "labels": [int(v) for v in m.labels_]}

    ref = {
        "generator": f"make_reference.py, scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "blobs": {"n": 150, "d": 4, "x": X.tolist(), "truth": [int(v) for v in truth]},
        "wide": {"n": 20, "d": 60, "x": W.tolist()},
        "pca_blobs": pca_reference(X, 3),
        "pca_wide": pca_reference(W, 5),
        "kmeans_blobs": km,
        "scores_blobs_k3": scores(X, km["3"]["labels"]),
        "scores_blobs_k5": scores(X, km["5"]["labels"]),
        "scores_blobs_truth": scores(X, truth),
        "bgm_blobs_dp": bgm_reference(X, "dirichlet_process", 6, 0),
        "bgm_blobs_dd": bgm_reference(X, "dirichlet_distribution", 6, 0),
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(out, "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
