"""sentence-transformers' own STS-B figure on the same TSV motif reads
(score, sentence1, sentence2; a header line if present): Spearman x100 of
the cosine of normalised embeddings against the gold score.

    python scripts/st_stsb.py ../shared/data/stsb/test.tsv MODEL_FOLDER

Needs sentence-transformers and scipy."""
import csv, sys, time
import numpy as np
from scipy.stats import spearmanr, pearsonr
from sentence_transformers import SentenceTransformer

path, model = sys.argv[1], sys.argv[2]
rows = []
with open(path, newline="", encoding="utf-8") as f:
    for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
        try:
            rows.append((float(r[0]), r[1], r[2]))
        except ValueError:
            continue  # header
m = SentenceTransformer(model, device="cpu")
t = time.time()
a = m.encode([r[1] for r in rows], normalize_embeddings=True, batch_size=32)
b = m.encode([r[2] for r in rows], normalize_embeddings=True, batch_size=32)
cos = (a * b).sum(1)
gold = np.array([r[0] for r in rows])
print(f"{model}: {len(rows)} pairs, spearman {100*spearmanr(cos, gold).correlation:.2f}, pearson {100*pearsonr(cos, gold)[0]:.2f}, {time.time()-t:.1f} s")
