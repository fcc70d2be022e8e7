"""A tiny Argos Translate package the tests build themselves: a sentencepiece model trained on a
few dozen sentences and a random-weight CTranslate2 Transformer (numpy only), zipped as an
``.argosmodel``. Its translations are random; the loading, tokenising, decoding and detokenising
around them are the real ones."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import sentencepiece
from ctranslate2.converters import Converter
from ctranslate2.specs import TransformerSpec, model_spec

# written for these tests: short news-like sentences in the languages of the pairs built below
SENTENCES = {
    "zh": ["海防港的货运量今年增长很快", "新的大桥明年将通车", "许多游客来到吉婆岛", "工人们正在修建一条新路",
           "市政府召开了新闻发布会", "暴雨袭击了沿海地区", "这座城市吸引了外国投资", "渔民清晨出海捕鱼",
           "工业园区新增了三家工厂", "中国企业参观了海防港"],
    "en": ["cargo volume at the port grew quickly this year", "the new bridge will open next year",
           "many visitors came to the island", "workers are building a new road",
           "the city government held a press conference", "heavy rain hit the coastal area",
           "the city attracted foreign investment", "fishermen went to sea early in the morning",
           "three new factories opened in the industrial park", "a delegation visited the harbour"],
    "vi": ["sản lượng hàng hóa qua cảng tăng nhanh trong năm nay", "cây cầu mới sẽ thông xe vào năm sau",
           "nhiều du khách đến thăm đảo", "công nhân đang làm một con đường mới",
           "thành phố tổ chức họp báo", "mưa lớn gây ngập vùng ven biển", "thành phố thu hút đầu tư nước ngoài",
           "ngư dân ra khơi từ sáng sớm", "khu công nghiệp có thêm ba nhà máy mới", "đoàn khách thăm bến cảng"],
}
DIM, FFN, HEADS = 16, 32, 2


def train_tokenizer(languages: list[str]) -> bytes:
    """A sentencepiece model (bytes) trained on the sentences of ``languages``."""
    out = io.BytesIO()
    sentences = [s for lang in languages for s in SENTENCES[lang]] * 3
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=out, vocab_size=160, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, minloglevel=2)
    return out.getvalue()


def _shape(name: str, vocab: int) -> tuple[int, ...]:
    parts = name.split("/")
    leaf, layer, block = parts[-1], parts[-2], parts[-3] if len(parts) > 2 else ""
    if layer.startswith("embeddings"):
        return (vocab, DIM)
    if layer == "projection":
        return (vocab, DIM) if leaf == "weight" else (vocab,)
    if layer == "layer_norm":
        return (DIM,)
    rows = {("self_attention", "linear_0"): 3 * DIM, ("self_attention", "linear_1"): DIM,
            ("attention", "linear_0"): DIM, ("attention", "linear_1"): 2 * DIM, ("attention", "linear_2"): DIM,
            ("ffn", "linear_0"): FFN, ("ffn", "linear_1"): DIM}[(block, layer)]
    cols = FFN if (block, layer) == ("ffn", "linear_1") else DIM
    return (rows, cols) if leaf == "weight" else (rows,)


class RandomTransformer(Converter):
    """A converter whose "checkpoint" is random numbers: the CTranslate2 spec of a one-layer
    Transformer with every weight drawn from a seeded generator, over a given vocabulary. The
    output projection favours ``favoured`` tokens and never ends early, so every translation is a
    run of those tokens (up to the decoder's length limit)."""

    def __init__(self, vocabulary: list[str], favoured: set[str], seed: int) -> None:
        self.vocabulary = vocabulary
        self.favoured = favoured
        self.seed = seed

    def _load(self):
        spec = TransformerSpec.from_config(1, HEADS)
        rng = np.random.default_rng(self.seed)
        size = len(self.vocabulary)

        def fill(layer, name, value):
            if value is not None and name != "decoder/projection/bias":  # the other biases stay optional
                return
            leaf = name.split("/")[-1]
            shape = _shape(name, size)
            if leaf == "gamma":
                array = np.ones(shape, np.float32)
            elif leaf == "beta":
                array = np.zeros(shape, np.float32)
            else:
                array = (rng.standard_normal(shape) * 0.5).astype(np.float32)
            if name == "decoder/projection/bias":
                array = np.full(shape, -20.0, np.float32)
                for i, piece in enumerate(self.vocabulary):
                    if piece in self.favoured:
                        array[i] = 5.0
            setattr(layer, leaf, array)

        model_spec.visit_spec(spec, fill)
        spec.register_source_vocabulary(self.vocabulary)
        spec.register_target_vocabulary(self.vocabulary)
        return spec


def target_pieces(processor: sentencepiece.SentencePieceProcessor, language: str) -> set[str]:
    """The pieces the tokenizer cuts ``language``'s sentences into (word pieces only)."""
    pieces = {p for s in SENTENCES[language] for p in processor.encode(s, out_type=str)}
    return {p for p in pieces if p.strip("▁")}


def build_package(root: Path, source: str, target: str, *, seed: int = 0, folder: str | None = None,
                  metadata: dict | None = None) -> Path:
    """``root/<source>_<target>.argosmodel``: the tokenizer (trained on both languages) and a random
    model whose outputs are made of ``target``'s pieces."""
    work = root / f"build-{source}-{target}-{seed}"
    work.mkdir(parents=True)
    (work / "sentencepiece.model").write_bytes(train_tokenizer([source, target]))
    processor = sentencepiece.SentencePieceProcessor(model_file=str(work / "sentencepiece.model"))
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    RandomTransformer(vocabulary, target_pieces(processor, target), seed).convert(str(work / "model"))
    meta = {"package_version": "0.1", "argos_version": "1.9", "from_code": source, "to_code": target,
            "from_name": source, "to_name": target, "name": f"tiny-{source}-{target}"}
    meta.update(metadata or {})
    top = folder or f"translate-{source}_{target}-0_1"
    package = root / f"{source}_{target}.argosmodel"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/", "")
        zf.writestr(f"{top}/metadata.json", json.dumps(meta))
        zf.write(work / "sentencepiece.model", f"{top}/sentencepiece.model")
        for path in sorted((work / "model").iterdir()):
            zf.write(path, f"{top}/model/{path.name}")
    return package


def vocabulary_text(package: Path) -> tuple[sentencepiece.SentencePieceProcessor, set[str]]:
    """The package's tokenizer and the characters its target pieces are written with."""
    with zipfile.ZipFile(package) as zf:
        name = next(n for n in zf.namelist() if n.endswith("/sentencepiece.model"))
        processor = sentencepiece.SentencePieceProcessor(model_proto=zf.read(name))
        meta = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("/metadata.json"))))
    chars = {c for p in target_pieces(processor, meta["to_code"]) for c in p.replace("▁", "")}
    return processor, chars
