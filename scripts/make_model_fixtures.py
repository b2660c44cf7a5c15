"""Make the tiny sentence-transformers fixture models under tests/fixtures/models/.

What it makes
-------------
Four complete sentence-transformers folders, as ``SentenceTransformer.save()`` writes them,
with random weights (they mean nothing) and tokenizers trained here on a small corpus:

* ``tiny-bert/``  BERT (model_type bert), lowercase WordPiece ([PAD]=0 [UNK] [CLS] [SEP]
  [MASK]; pieces chosen by train_wordpiece below), mean pooling, Normalize,
  max_seq_length 48.
* ``tiny-mpnet/`` MPNet (model_type mpnet), all-mpnet-base-v2 style WordPiece
  (<s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last), relative attention bias with 32 buckets,
  mean pooling, Normalize, max_seq_length 64.
* ``tiny-xlmr/``  XLM-RoBERTa (model_type xlm-roberta), SentencePiece Unigram tokenizer
  (nmt_nfkc precompiled normalizer, Metaspace) trained on English plus French, German,
  Russian, Chinese and Arabic (scripts/fixture_corpus.txt), mean pooling, no Normalize
  module, max_seq_length 64.
* ``tiny-e5/``    BERT with tiny-bert's tokenizer, CLS pooling, Normalize, prompts
  {"query": "query: ", "passage": "passage: "}, max_seq_length 48.

The module configs come in three layouts (LAYOUTS below). tiny-mpnet and tiny-xlmr keep
exactly what sentence-transformers 6 writes: ``1_Pooling/config.json`` is
{"embedding_dimension", "pooling_mode": "mean", "include_prompt"} and max_seq_length lives
only in tokenizer_config.json's model_max_length (and tokenizer.json's truncation).
tiny-bert is rewritten as the published hub folders (all-MiniLM-L6-v2, ...) still are:
legacy ``pooling_mode_*_tokens`` booleans and sentence_bert_config.json
{"max_seq_length", "do_lower_case"}. tiny-e5 is sentence-transformers 6's layout with
max_seq_length / do_lower_case added to sentence_bert_config.json. sentence-transformers
loads all three (checked below).

All four: hidden 64, 2 heads (width 32), intermediate 128, 2 layers, float32 safetensors.
After the default init every bias and every LayerNorm weight/bias gets N(0, 0.1) noise added,
and MPNet's shared relative attention bias table is redrawn with std 1, so that a loader that
drops a bias, a LayerNorm shift, the relative bias or the position offset of RoBERTa-style
models (positions start at padding_idx + 1 = 2) produces clearly different vectors.

And ``reference.json``: the texts, and for every model the token ids sentence-transformers
feeds the model, the vectors of five pooling modes (mean, cls, max, lasttoken,
mean_sqrt_len), all L2-normalised, computed by sentence-transformers itself with
batch_size 4 (so padding happens inside batches), and for tiny-e5 the vectors of its two
prompts. Floats are rounded to 7 significant digits.

The script checks (asserts) that reloading each saved folder reproduces the vectors computed
before saving, that the ``tokenizers`` library reading the folder's tokenizer.json gives
sentence-transformers' token ids, and that the perturbations above move the vectors.

How to run
----------
    MOTIF_DATA_DIR=/path/to/shared/data /path/to/venv/bin/python scripts/make_model_fixtures.py

The English corpus is the repository's seeds/ plus the first lines of the shared STS-B and
MRPC files (``$MOTIF_DATA_DIR``, default ``../shared/data`` beside the repository). The venv
needs sentence-transformers, torch, transformers, tokenizers and sentencepiece. Nothing is
downloaded: every model is built from a config.

Run with: sentence-transformers 6.2.0, transformers 5.24.0, torch 2.15.0 (CPU),
tokenizers 0.23.3, sentencepiece 0.2.3, Python 3.11. Output is deterministic for these
versions (fixed seeds, single-threaded training); other versions may train other
vocabularies or round the last float digit differently.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import sentence_transformers
import sentencepiece as spm
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordPiece
from transformers import (
    BertConfig,
    BertModel,
    BertTokenizer,
    MPNetConfig,
    MPNetModel,
    MPNetTokenizer,
    XLMRobertaConfig,
    XLMRobertaModel,
    XLMRobertaTokenizer,
)

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "models"
CORPUS_FILE = REPO / "scripts" / "fixture_corpus.txt"

SEED = 18
HIDDEN = 64
NOISE_STD = 0.1
REL_BIAS_STD = 1.0
# Wider than BERT's 0.02 so that attention is not uniform and texts get distinct vectors.
INIT_RANGE = 0.1

# Key in reference.json -> sentence-transformers pooling mode.
POOLING_MODES = {
    "mean": "mean",
    "cls": "cls",
    "max": "max",
    "lasttoken": "lasttoken",
    "mean_sqrt_len": "mean_sqrt_len_tokens",
}

TEXTS = [
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "North Korea has sent 10,000 troops to Russia's Kursk region, officials said on Monday.",
    (
        "In 2024 the International Institute for Strategic Studies estimated that North Korea "
        "fields about 1,280,000 active-duty soldiers; of these, nobody knows how many have ever "
        "seen combat, whether as mercenaries or in clandestine operations abroad."
    ),
    (
        "The city council met on Tuesday evening to discuss the new transport plan. Residents "
        "had complained for years about slow buses, crowded trains and the rising price of "
        "tickets, so the mayor promised that the first new tram line would open before the end "
        "of 2027. Critics said the budget of 350 million euros was far too small, and that the "
        "plan ignored the villages outside the city, where most people still drive to work "
        "every day. After three hours of debate, the council voted 31 to 12 in favour, and the "
        "first contracts will be signed next spring, according to a spokesperson."
    ),
    "Москва — столица России и крупнейший город страны.",
    "北京是中华人民共和国的首都。",
    "القاهرة هي عاصمة جمهورية مصر العربية.",
    "Great news 🎉 the launch WORKED! 🚀",
    "Les élèves über-motivés ont réussi l'examen à Zürich: ﬁnal score ＡＢＣ１２３.",
]

# How each folder's module configs are laid out:
# "legacy": 1_Pooling/config.json with pooling_mode_*_tokens booleans and sentence_bert_config.json
#   {"max_seq_length", "do_lower_case"}, as the published hub folders (all-MiniLM-L6-v2, ...) carry;
# "st6": exactly as sentence-transformers 6 saves (pooling_mode "mean", max_seq_length only as
#   tokenizer_config.json's model_max_length);
# "st6+max_seq_length": st6 with max_seq_length / do_lower_case added to sentence_bert_config.json.
LAYOUTS = {"tiny-bert": "legacy", "tiny-mpnet": "st6", "tiny-xlmr": "st6", "tiny-e5": "st6+max_seq_length"}

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


# ---------------------------------------------------------------- corpus


def data_dir() -> Path:
    env = os.environ.get("MOTIF_DATA_DIR")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    if not (path / "stsb" / "dev.tsv").is_file() or not (path / "mrpc" / "test.tsv").is_file():
        sys.exit(f"shared data not found at {path}: set MOTIF_DATA_DIR (the vocabulary depends on it)")
    return path


def english_corpus() -> list[str]:
    lines: list[str] = []
    for seed in sorted((REPO / "seeds").glob("*.txt")):
        lines += [line.strip() for line in seed.read_text(encoding="utf-8").splitlines() if line.strip()]
    shared = data_dir()
    for name, cols, count in (("stsb/dev.tsv", (1, 2), 150), ("mrpc/test.tsv", (1, 2), 100)):
        rows = (shared / name).read_text(encoding="utf-8").splitlines()[1 : count + 1]
        for row in rows:
            fields = row.split("\t")
            lines += [fields[c] for c in cols if c < len(fields)]
    return lines


def multilingual_corpus() -> list[str]:
    extra = [
        line.strip()
        for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # The foreign lines are short next to the English: repeat them so that their words
    # get pieces of their own in a small vocabulary.
    return english_corpus() + extra * 4


# ---------------------------------------------------------------- tokenizers


def train_wordpiece(lines: list[str], specials: list[str], vocab_size: int) -> dict[str, int]:
    """A lowercase BERT-style WordPiece vocabulary; the special tokens take the first ids.

    The text is normalised and pre-tokenised by the `tokenizers` library (BertNormalizer,
    BertPreTokenizer), but the pieces are chosen here, by frequency with ties broken by the
    piece itself: `tokenizers.trainers.WordPieceTrainer` breaks ties between equally frequent
    merges in hash order, so two runs gave different vocabularies. The vocabulary: every
    character seen twice and the printable ASCII ones (upper case aside), each also as a
    ##continuation, the most frequent words, then the most
    frequent word beginnings and ##endings of the words left out, so that many words split into
    several pieces."""
    tok = Tokenizer(WordPiece(unk_token=specials[1]))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, clean_text=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for line in lines:
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(line)):
            words[word] += 1
    chars: Counter[str] = Counter()
    for word, count in words.items():
        for ch in word:
            chars[ch] += count
    # ASCII punctuation and digits always, so that "!" is not [UNK] just because the corpus lacks it.
    ascii_marks = {chr(c) for c in range(33, 127) if not chr(c).isupper()}
    alphabet = sorted({ch for ch, count in chars.items() if count >= 2} | ascii_marks)
    pieces = list(specials) + alphabet + ["##" + ch for ch in alphabet]

    def by_count(counter: Counter[str]) -> list[str]:
        return [p for p, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]

    budget = vocab_size - len(pieces)
    frequent = [w for w in by_count(words) if len(w) > 1 and words[w] >= 2][: budget * 2 // 3]
    pieces += frequent
    chosen = set(pieces)
    parts: Counter[str] = Counter()
    for word, count in words.items():
        if word in chosen or len(word) < 4:
            continue
        for k in range(2, min(6, len(word) - 1) + 1):
            parts[word[:k]] += count
            parts["##" + word[-k:]] += count
    pieces += [p for p in by_count(parts) if p not in chosen][: vocab_size - len(pieces)]
    assert len(pieces) == vocab_size, (len(pieces), vocab_size)
    return {piece: i for i, piece in enumerate(pieces)}


def bert_tokenizer(vocab: dict[str, int]) -> BertTokenizer:
    return BertTokenizer(vocab=dict(vocab), do_lower_case=True)


def mpnet_tokenizer(vocab: dict[str, int]) -> MPNetTokenizer:
    # <mask> is not in the trained vocabulary: it becomes an added token with the last id,
    # as in all-mpnet-base-v2 (30526 there).
    return MPNetTokenizer(vocab=dict(vocab), do_lower_case=True, unk_token="<unk>")


def _proto_field(buf: bytes, wanted: int) -> bytes | None:
    """The first length-delimited field `wanted` of a protobuf message (enough to read
    NormalizerSpec.precompiled_charsmap out of a SentencePiece model without protobuf)."""
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            b = buf[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n = varint()
            if field == wanted:
                return buf[i : i + n]
            i += n
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return None


def xlmr_tokenizer(lines: list[str], vocab_size: int) -> XLMRobertaTokenizer:
    """A SentencePiece Unigram model laid out like XLM-R's: <s>=0 <pad>=1 </s>=2 <unk>=3,
    the pieces, then <mask>; the nmt_nfkc precompiled charsmap as the normalizer."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
        bos_piece="<s>",
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        num_threads=1,
        minloglevel=2,
    )
    proto = model.getvalue()
    sp = spm.SentencePieceProcessor(model_proto=proto)
    vocab = [(sp.id_to_piece(i), 0.0 if sp.is_control(i) or sp.is_unknown(i) else float(sp.get_score(i)))
             for i in range(sp.get_piece_size())]
    assert [p for p, _ in vocab[:4]] == ["<s>", "<pad>", "</s>", "<unk>"], vocab[:4]
    vocab.append(("<mask>", 0.0))
    normalizer_spec = _proto_field(proto, 3)
    charsmap = _proto_field(normalizer_spec, 2) if normalizer_spec else None
    assert charsmap, "no precompiled charsmap in the SentencePiece model"
    return XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=charsmap)


# ---------------------------------------------------------------- models


def perturb(model: torch.nn.Module) -> None:
    """Add noise to every bias and LayerNorm parameter (default init: biases 0, LayerNorm 1/0)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.add_(torch.randn_like(module.weight) * NOISE_STD)
                module.bias.add_(torch.randn_like(module.bias) * NOISE_STD)
            elif isinstance(module, torch.nn.Linear) and module.bias is not None:
                module.bias.add_(torch.randn_like(module.bias) * NOISE_STD)


def common_config() -> dict:
    return dict(
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        initializer_range=INIT_RANGE,
    )


def build_bert(vocab_size: int, seed: int) -> BertModel:
    set_seed(seed)
    cfg = BertConfig(
        vocab_size=vocab_size, max_position_embeddings=130, type_vocab_size=2, pad_token_id=0, **common_config()
    )
    model = BertModel(cfg)
    perturb(model)
    return model


def build_mpnet(vocab_size: int, seed: int) -> MPNetModel:
    set_seed(seed)
    cfg = MPNetConfig(
        vocab_size=vocab_size,
        max_position_embeddings=132,
        relative_attention_num_buckets=32,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        **common_config(),
    )
    model = MPNetModel(cfg)
    perturb(model)
    with torch.no_grad():
        model.encoder.relative_attention_bias.weight.normal_(0.0, REL_BIAS_STD)
    return model


def build_xlmr(vocab_size: int, seed: int) -> XLMRobertaModel:
    set_seed(seed)
    cfg = XLMRobertaConfig(
        vocab_size=vocab_size,
        max_position_embeddings=132,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        **common_config(),
    )
    model = XLMRobertaModel(cfg)
    perturb(model)
    return model


# ---------------------------------------------------------------- saving and encoding


def write_folder(
    name: str,
    hf_model,
    tokenizer,
    *,
    max_seq_length: int,
    pooling: str,
    normalize: bool,
    prompts: dict[str, str] | None = None,
) -> tuple[Path, np.ndarray]:
    """Save a SentenceTransformer folder; return its path and its vectors before saving."""
    out = OUT / name
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        hf_model.float().save_pretrained(hf_dir, safe_serialization=True)
        tokenizer.save_pretrained(hf_dir)
        transformer = Transformer(str(hf_dir), max_seq_length=max_seq_length)
        modules = [transformer, Pooling(HIDDEN, pooling_mode=pooling)]
        if normalize:
            modules.append(Normalize())
        st = SentenceTransformer(modules=modules, device="cpu", prompts=prompts, default_prompt_name=None)
        st.eval()
        before = st.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, batch_size=4)
        if out.exists():
            shutil.rmtree(out)
        # No model card: README.md is not needed to load the folder and carries dates.
        st.save(str(out), create_model_card=False)
    return out, before


def legacy_pooling_config(folder: Path) -> None:
    """Rewrite 1_Pooling/config.json in the layout the hub's older folders carry."""
    path = folder / "1_Pooling" / "config.json"
    cfg = json.loads(path.read_text())
    mode = cfg["pooling_mode"]
    legacy = {
        "word_embedding_dimension": cfg["embedding_dimension"],
        "pooling_mode_cls_token": mode == "cls",
        "pooling_mode_mean_tokens": mode == "mean",
        "pooling_mode_max_tokens": mode == "max",
        "pooling_mode_mean_sqrt_len_tokens": mode == "mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens": mode == "weightedmean",
        "pooling_mode_lasttoken": mode == "lasttoken",
        "include_prompt": cfg["include_prompt"],
    }
    path.write_text(json.dumps(legacy, indent=4) + "\n")


def legacy_sentence_bert_config(folder: Path, max_seq_length: int) -> None:
    """Write sentence_bert_config.json as the hub's older folders have it (sentence-transformers 6
    writes transformer_task / modality_config / module_output_name and keeps max_seq_length only in
    tokenizer_config.json's model_max_length)."""
    path = folder / "sentence_bert_config.json"
    path.write_text(json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}, indent=4) + "\n")


def add_max_seq_length(folder: Path, max_seq_length: int) -> None:
    """Add max_seq_length / do_lower_case to sentence-transformers 6's sentence_bert_config.json."""
    path = folder / "sentence_bert_config.json"
    cfg = json.loads(path.read_text())
    cfg = {"max_seq_length": max_seq_length, "do_lower_case": False, **cfg}
    path.write_text(json.dumps(cfg, indent=4) + "\n")


def encode(st: SentenceTransformer, texts: list[str], **kwargs) -> np.ndarray:
    return st.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=4, **kwargs)


def with_pooling(st: SentenceTransformer, mode: str) -> SentenceTransformer:
    model = SentenceTransformer(modules=[st[0], Pooling(HIDDEN, pooling_mode=mode), Normalize()], device="cpu")
    model.eval()
    return model


def token_ids(st: SentenceTransformer, texts: list[str], prompt: str | None = None) -> list[list[int]]:
    out = []
    for text in texts:
        features = st.preprocess([text], prompt=prompt)
        ids = features["input_ids"][0]
        mask = features["attention_mask"][0]
        out.append([int(i) for i, m in zip(ids.tolist(), mask.tolist()) if m])
    return out


def round7(vectors: np.ndarray) -> list[list[float]]:
    return [[float(f"{x:.7g}") for x in row] for row in np.asarray(vectors, dtype=np.float64)]


def min_cos(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def max_offdiag_cos(v: np.ndarray) -> float:
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    sims = v @ v.T
    np.fill_diagonal(sims, -1.0)
    return float(sims.max())


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- sensitivity checks


def altered_vectors(st: SentenceTransformer, alter) -> np.ndarray:
    """The folder-default vectors of a copy of `st` whose HF model was changed by `alter`."""
    import copy

    clone = copy.deepcopy(st)
    with torch.no_grad():
        alter(clone[0].model)
    return encode(clone, TEXTS)


def zero_biases(model) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.bias is not None:
            module.bias.zero_()


def unit_layernorms(model) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()


def no_relative_bias(model) -> None:
    model.encoder.relative_attention_bias.weight.zero_()


def positions_from_zero(model) -> None:
    """RoBERTa-style embeddings without the padding_idx + 1 offset (positions 0, 1, ...)."""
    emb = model.embeddings
    table = emb.position_embeddings.weight
    offset = emb.padding_idx + 1
    table[offset:] = table[: table.shape[0] - offset].clone()


def no_token_type(model) -> None:
    model.embeddings.token_type_embeddings.weight.zero_()


def sensitivity(name: str, st: SentenceTransformer, reference: np.ndarray) -> dict[str, float]:
    checks = {"zero_linear_biases": zero_biases, "unit_layernorms": unit_layernorms}
    model_type = st[0].model.config.model_type
    if model_type == "mpnet":
        checks["no_relative_attention_bias"] = no_relative_bias
    if model_type in ("mpnet", "xlm-roberta"):
        checks["positions_without_offset"] = positions_from_zero
    if model_type == "bert":
        checks["no_token_type_embedding"] = no_token_type
    result = {}
    for check, alter in checks.items():
        cos = min_cos(altered_vectors(st, alter), reference)
        print(f"  {name}: {check}: min cosine to reference {cos:.4f}")
        assert cos < 0.999, f"{name}: {check} barely changes the vectors ({cos})"
        result[check] = round(cos, 4)
    return result


# ---------------------------------------------------------------- main


def describe(name: str, folder: Path, before: np.ndarray, default_mode: str, prompts: dict | None) -> dict:
    st = SentenceTransformer(str(folder), device="cpu")
    st.eval()
    transformer = st[0]
    tok = transformer.tokenizer
    max_len = st.max_seq_length

    # Reload reproduces the vectors of the model that was saved.
    after = encode(st, TEXTS)
    assert np.allclose(before, after, atol=1e-6), f"{name}: reloaded folder gives other vectors"
    # Padding inside a batch does not change a text's vector.
    one_by_one = st.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, batch_size=1)
    assert np.allclose(one_by_one, after, atol=1e-5), f"{name}: batch padding changes vectors"

    ids = token_ids(st, TEXTS)
    # The tokenizers library reading tokenizer.json (what a non-Python loader does) agrees.
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    raw.enable_truncation(max_len)
    for text, expected in zip(TEXTS, ids):
        got = raw.encode(text).ids
        assert got == expected, f"{name}: tokenizer.json gives {got} for {text!r}, ST gives {expected}"
    lengths = [len(x) for x in ids]
    print(f"  {name}: token counts {lengths} (max_seq_length {max_len})")
    assert max(lengths) == max_len, f"{name}: the long text is not truncated"

    entry: dict = {
        "architecture": transformer.model.config.model_type,
        "max_seq_length": max_len,
        "do_lower_case": bool(transformer.do_lower_case),
        "tokenizer_lowercases": bool(getattr(tok, "do_lower_case", False)),
        # A key of "pooling" below: the folder's own vectors are pooling[default_pooling].
        "default_pooling": next(k for k, m in POOLING_MODES.items() if m == default_mode),
        "default_normalize": any(isinstance(m, Normalize) for m in st),
        # The tensors sentence-transformers feeds the model (MPNet and XLM-R get no token_type_ids).
        "model_input_keys": sorted(k for k, v in st.preprocess(["x"]).items() if isinstance(v, torch.Tensor)),
        "token_ids": ids,
        "pooling": {},
    }
    by_mode = {}
    for key, mode in POOLING_MODES.items():
        vectors = encode(with_pooling(st, mode), TEXTS)
        by_mode[key] = vectors
        entry["pooling"][key] = round7(vectors)
    default_key = next(k for k, m in POOLING_MODES.items() if m == default_mode)
    assert np.allclose(by_mode[default_key], after, atol=1e-6), f"{name}: folder default != pooling[{default_key}]"
    spread = max_offdiag_cos(after)
    print(f"  {name}: largest cosine between two different texts {spread:.4f}")
    assert spread < 0.999, f"{name}: texts are not told apart ({spread})"
    entry["max_cosine_between_texts"] = round(spread, 4)

    if prompts:
        pooling_module = st[1]
        entry["include_prompt"] = bool(pooling_module.include_prompt)
        entry["prompt_strings"] = dict(prompts)
        entry["prompts"] = {}
        entry["prompt_token_ids"] = {}
        for prompt_name, prompt in prompts.items():
            vectors = encode(st, TEXTS, prompt_name=prompt_name)
            same = encode(st, [prompt + t for t in TEXTS])
            assert np.allclose(vectors, same, atol=1e-6), f"{name}: prompt {prompt_name} is not a plain prefix"
            assert min_cos(vectors, after) < 0.999, f"{name}: prompt {prompt_name} barely changes the vectors"
            entry["prompts"][prompt_name] = round7(vectors)
            entry["prompt_token_ids"][prompt_name] = token_ids(st, TEXTS, prompt=prompt)
            assert entry["prompt_token_ids"][prompt_name] == token_ids(st, [prompt + t for t in TEXTS])

    entry["sensitivity_min_cosine"] = sensitivity(name, st, after)
    return entry


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)

    english = english_corpus()
    bert_vocab = train_wordpiece(english, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], 600)
    mpnet_vocab = train_wordpiece(english, ["<s>", "<pad>", "</s>", "<unk>"], 600)
    xlmr_tok = xlmr_tokenizer(multilingual_corpus(), 1000)

    bert_tok = bert_tokenizer(bert_vocab)
    mpnet_tok = mpnet_tokenizer(mpnet_vocab)

    specs = [
        # name, model, tokenizer, max_seq_length, pooling, normalize, prompts
        ("tiny-bert", build_bert(len(bert_tok), SEED), bert_tok, 48, "mean", True, None),
        ("tiny-mpnet", build_mpnet(len(mpnet_tok), SEED + 1), mpnet_tok, 64, "mean", True, None),
        ("tiny-xlmr", build_xlmr(len(xlmr_tok), SEED + 2), xlmr_tok, 64, "mean", False, None),
        ("tiny-e5", build_bert(len(bert_tok), SEED + 3), bert_tok, 48, "cls", True, E5_PROMPTS),
    ]

    reference = {
        "generated_by": "scripts/make_model_fixtures.py",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "tokenizers": tokenizers.__version__,
            "sentencepiece": spm.__version__,
        },
        "note": (
            "Random weights. Vectors are L2-normalised, computed by sentence-transformers on CPU with "
            "batch_size 4, rounded to 7 significant digits. token_ids are per text, with special tokens, "
            "after truncation to max_seq_length. pooling[default_pooling] is what the folder itself gives."
        ),
        "texts": TEXTS,
        "models": {},
    }
    total = 0
    for name, model, tok, max_len, pooling, normalize, prompts in specs:
        print(f"{name}:")
        folder, before = write_folder(
            name, model, tok, max_seq_length=max_len, pooling=pooling, normalize=normalize, prompts=prompts
        )
        layout = LAYOUTS[name]
        if layout == "legacy":
            legacy_pooling_config(folder)
            legacy_sentence_bert_config(folder, max_len)
        elif layout == "st6+max_seq_length":
            add_max_seq_length(folder, max_len)
        reference["models"][name] = {"layout": layout, **describe(name, folder, before, pooling, prompts)}
        size = folder_size(folder)
        total += size
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        print(f"  {name}: {size / 1024:.0f} KiB: {', '.join(files)}")

    ref_path = OUT / "reference.json"
    ref_path.write_text(json.dumps(reference, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    total += ref_path.stat().st_size
    print(f"reference.json: {ref_path.stat().st_size / 1024:.0f} KiB; total {total / 1024:.0f} KiB")
    assert total < 3 * 1024 * 1024, "fixtures are over 3 MB"


if __name__ == "__main__":
    main()
