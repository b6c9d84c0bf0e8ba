"""What the analysts' notebooks do, as a plain script: the baseline `reportgen run` is compared with (issue 7).

    python benchmarks/notebook_baseline.py CSV OUT_DIR

Read the CSV, draw the usual seaborn charts to PNG (distributions, gender counts, pair plot, correlation heatmap),
run the elbow loop for k = 1..10, fit K-means with k = 5 on income and spending, and draw the clusters.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from sklearn.cluster import KMeans

csv, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
df = pd.read_csv(csv)
numeric = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
sample = df.sample(min(len(df), 5000), random_state=0)

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, column in zip(axes, numeric, strict=False):
    sns.histplot(sample[column], kde=True, ax=ax)
fig.savefig(out / "distributions.png", dpi=100)
plt.close(fig)

fig = plt.figure(figsize=(6, 4))
sns.countplot(x="Gender", data=df)
fig.savefig(out / "gender.png", dpi=100)
plt.close(fig)

grid = sns.pairplot(sample[[*numeric, "Gender"]], hue="Gender")
grid.savefig(out / "pairplot.png", dpi=100)
plt.close("all")

fig = plt.figure(figsize=(6, 5))
sns.heatmap(df[numeric].corr(), annot=True, cmap="coolwarm")
fig.savefig(out / "correlation.png", dpi=100)
plt.close(fig)

X = df[["Annual Income (k$)", "Spending Score (1-100)"]].to_numpy()
inertia = [KMeans(n_clusters=k, n_init=10, random_state=42).fit(X).inertia_ for k in range(1, 11)]
fig = plt.figure(figsize=(6, 4))
plt.plot(range(1, 11), inertia, marker="o")
fig.savefig(out / "elbow.png", dpi=100)
plt.close(fig)

model = KMeans(n_clusters=5, n_init=10, random_state=42).fit(X)
fig = plt.figure(figsize=(7, 5))
shown = sample.index if len(df) > 5000 else df.index
plt.scatter(X[shown, 0], X[shown, 1], c=model.labels_[shown], cmap="viridis", s=10)
plt.scatter(model.cluster_centers_[:, 0], model.cluster_centers_[:, 1], c="red", s=200, marker="X")
fig.savefig(out / "clusters.png", dpi=100)
plt.close(fig)
