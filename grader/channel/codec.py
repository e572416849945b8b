"""Wire format between the trusted judge and the untrusted worker.

This module is copied into the sandbox next to the worker shim, so it may import only the
standard library, numpy and torch (never the rest of ``grader``).

A frame is ``kind (1 byte) | length (8 bytes) | payload``. A payload is
``header length (4 bytes) | JSON header | raw buffers``. Values are JSON trees in which every
non-JSON type is an object tagged with ``"$"``; tensors, arrays and bytes travel as raw
buffers referenced by index. Decoding builds only plain data (None, bool, int, float, complex,
str, bytes, list, tuple, dict, exact ``torch.Tensor``, numpy arrays and scalars of plain dtypes,
dtypes, devices and slices) and opaque handles; nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import struct
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch

try:  # a package inside the sandbox (grader_channel) and on the host (grader.channel)
    from .framing import CONTROL, DATA, FRAME_HEADER, read_size  # noqa: F401 (re-exported)
except ImportError:  # pragma: no cover - executed as a plain script
    from framing import CONTROL, DATA, FRAME_HEADER, read_size  # type: ignore[no-redef]  # noqa: F401

PAYLOAD_HEADER = struct.Struct("!I")

MAX_DEPTH = 64

TORCH_DTYPES: dict[str, torch.dtype] = {
    name: getattr(torch, name)
    for name in (
        "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
        "uint8", "int8", "int16", "int32", "int64", "bool",
    )
}
TORCH_DTYPE_NAMES = {dtype: name for name, dtype in TORCH_DTYPES.items()}
NUMPY_DTYPES = {
    "float16", "float32", "float64", "complex64", "complex128",
    "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "bool",
}


class CodecError(Exception):
    """A value cannot be encoded, or a payload is not a well-formed message."""


class HandleRef:
    """A reference to an object living in the worker, as it travels on the wire."""

    __slots__ = ("id", "type_name", "text")

    def __init__(self, id: int, type_name: str = "", text: str = "") -> None:
        self.id = id
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"HandleRef({self.id}, {self.type_name!r})"


class GeneratorState:
    """A torch.Generator passed by value: the receiver rebuilds a generator in this state."""

    __slots__ = ("state",)

    def __init__(self, state: torch.Tensor) -> None:
        self.state = state


def _tensor_bytes(t: torch.Tensor) -> memoryview:
    flat = t.reshape(-1)
    if flat.numel() == 0:
        return memoryview(b"")
    return memoryview(flat.view(torch.uint8).numpy()).cast("B")


class Encoder:
    """Turns a value into a JSON tree plus a list of raw buffers.

    ``to_handle`` is called for values that are not plain data; it returns a HandleRef (the
    worker registers the object) or raises CodecError (the judge never sends arbitrary objects).
    """

    def __init__(self, to_handle: Callable[[Any], HandleRef] | None = None, max_bytes: int = 1 << 62) -> None:
        self.buffers: list[memoryview] = []
        self.to_handle = to_handle
        self.max_bytes = max_bytes
        self.total = 0

    def _buffer(self, data: memoryview | bytes) -> int:
        view = memoryview(data).cast("B") if not isinstance(data, memoryview) else data
        self.total += view.nbytes
        if self.total > self.max_bytes:
            raise CodecError(f"value too large to send (over {self.max_bytes} bytes)")
        self.buffers.append(view)
        return len(self.buffers) - 1

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
        t = type(value)
        if value is None or t is bool or t is str:
            return value
        if t is int:
            return value
        if t is float:
            if math.isfinite(value):
                return value
            return {"$": "float", "v": repr(value)}
        if t is list:
            return [self.encode(v, depth + 1) for v in value]
        if t is tuple or t is torch.Size:
            return {"$": "tuple", "v": [self.encode(v, depth + 1) for v in value]}
        if t is dict or t is OrderedDict:
            return {"$": "dict", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if t is bytes:
            return {"$": "bytes", "b": self._buffer(value)}
        if t is complex:
            return {"$": "complex", "v": [repr(value.real), repr(value.imag)]}
        if isinstance(value, torch.Tensor):
            return self._tensor(value)
        if t is np.ndarray:
            if value.dtype.name not in NUMPY_DTYPES:
                return self._handle(value)
            arr = np.ascontiguousarray(value)
            return {"$": "ndarray", "dtype": arr.dtype.name, "shape": list(arr.shape),
                    "b": self._buffer(memoryview(arr.reshape(-1).view(np.uint8)))}
        if isinstance(value, np.generic) and t.__module__ == "numpy" and value.dtype.name in NUMPY_DTYPES:
            arr = np.asarray(value).reshape(1)
            return {"$": "npscalar", "dtype": value.dtype.name, "b": self._buffer(memoryview(arr.view(np.uint8)))}
        if t is torch.dtype:
            if value not in TORCH_DTYPE_NAMES:
                raise CodecError(f"unsupported dtype {value}")
            return {"$": "dtype", "v": TORCH_DTYPE_NAMES[value]}
        if t is torch.device:
            return {"$": "device", "v": str(value)}
        if t is slice:
            return {"$": "slice", "v": [self.encode(value.start, depth + 1), self.encode(value.stop, depth + 1),
                                        self.encode(value.step, depth + 1)]}
        if value is Ellipsis:
            return {"$": "ellipsis"}
        if t is HandleRef:
            return {"$": "handle", "id": value.id, "type": value.type_name, "text": value.text}
        if t is GeneratorState:
            return {"$": "generator", "state": self._tensor(value.state)}
        if t is torch.Generator:
            return {"$": "generator", "state": self._tensor(value.get_state())}
        return self._handle(value)

    def _tensor(self, value: torch.Tensor) -> dict:
        if (type(value) is torch.Tensor and value.layout == torch.strided and value.device.type == "cpu"
                and value.is_contiguous() and not value.is_conj() and not value.is_neg()):
            # The common case, a plain contiguous CPU tensor: no conversions to try (half the cost).
            name = TORCH_DTYPE_NAMES.get(value.dtype)
            if name is not None:
                return {"$": "tensor", "dtype": name, "shape": list(value.shape), "device": "cpu",
                        "b": self._buffer(_tensor_bytes(value.detach()))}
        # Strip subclasses without running their __torch_function__ overrides.
        with torch._C.DisableTorchFunctionSubclass():
            t = value.detach()
            if t.is_sparse or t.layout != torch.strided:
                t = t.to_dense()
            device = str(t.device)
            t = t.to("cpu").contiguous()
            if t.is_conj():
                t = t.resolve_conj()
            if t.is_neg():
                t = t.resolve_neg()
        if t.dtype not in TORCH_DTYPE_NAMES:
            raise CodecError(f"unsupported tensor dtype {t.dtype}")
        return {"$": "tensor", "dtype": TORCH_DTYPE_NAMES[t.dtype], "shape": list(t.shape), "device": device,
                "b": self._buffer(_tensor_bytes(t))}

    def _handle(self, value: Any) -> dict:
        if self.to_handle is None:
            raise CodecError(f"cannot send a value of type {type(value).__module__}.{type(value).__qualname__}")
        ref = self.to_handle(value)
        return {"$": "handle", "id": ref.id, "type": ref.type_name, "text": ref.text}


class Decoder:
    """Rebuilds plain data from a JSON tree and its buffers; handles become ``make_handle(ref)``."""

    def __init__(self, buffers: list[memoryview], make_handle: Callable[[HandleRef], Any]) -> None:
        self.buffers = buffers
        self.make_handle = make_handle

    def _buf(self, index: Any) -> memoryview:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise CodecError("bad buffer reference")
        return self.buffers[index]

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
        t = type(node)
        if node is None or t in (bool, int, float, str):
            return node
        if t is list:
            return [self.decode(v, depth + 1) for v in node]
        if t is not dict:
            raise CodecError(f"unexpected JSON node {t.__name__}")
        tag = node.get("$")
        if tag == "tuple":
            return tuple(self.decode(v, depth + 1) for v in self._list(node["v"]))
        if tag == "dict":
            out = {}
            for pair in self._list(node["v"]):
                if type(pair) is not list or len(pair) != 2:
                    raise CodecError("bad dict entry")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError as exc:  # unhashable key
                    raise CodecError(f"bad dict key: {exc}") from None
            return out
        if tag == "float":
            text = node.get("v")
            if text not in ("nan", "inf", "-inf"):
                raise CodecError("bad float")
            return float(text)
        if tag == "complex":
            re, im = self._list(node["v"])
            return complex(float(re), float(im))
        if tag == "bytes":
            return bytes(self._buf(node.get("b")))
        if tag == "tensor":
            return self._tensor(node)
        if tag == "ndarray":
            dtype = node.get("dtype")
            if dtype not in NUMPY_DTYPES:
                raise CodecError(f"unsupported array dtype {dtype!r}")
            shape = self._shape(node.get("shape"))
            arr = np.frombuffer(bytearray(self._buf(node.get("b"))), dtype=np.dtype(dtype))
            return arr.reshape(shape)
        if tag == "npscalar":
            dtype = node.get("dtype")
            if dtype not in NUMPY_DTYPES:
                raise CodecError(f"unsupported scalar dtype {dtype!r}")
            arr = np.frombuffer(bytes(self._buf(node.get("b"))), dtype=np.dtype(dtype))
            if arr.size != 1:
                raise CodecError("bad numpy scalar")
            return arr[0]
        if tag == "dtype":
            if node.get("v") not in TORCH_DTYPES:
                raise CodecError("unsupported dtype")
            return TORCH_DTYPES[node["v"]]
        if tag == "device":
            if type(node.get("v")) is not str:
                raise CodecError("bad device")
            return torch.device(node["v"])
        if tag == "slice":
            start, stop, step = (self.decode(v, depth + 1) for v in self._list(node["v"]))
            return slice(start, stop, step)
        if tag == "ellipsis":
            return Ellipsis
        if tag == "handle":
            ident = node.get("id")
            if type(ident) is not int:
                raise CodecError("bad handle")
            return self.make_handle(HandleRef(ident, str(node.get("type", ""))[:200], str(node.get("text", ""))[:200]))
        if tag == "generator":
            state = self.decode(node.get("state"), depth + 1)
            if type(state) is not torch.Tensor or state.dtype != torch.uint8:
                raise CodecError("bad generator state")
            gen = torch.Generator()
            gen.set_state(state)
            return gen
        raise CodecError(f"unknown value tag {tag!r}")

    @staticmethod
    def _list(node: Any) -> list:
        if type(node) is not list:
            raise CodecError("expected a list")
        return node

    @staticmethod
    def _shape(node: Any) -> tuple[int, ...]:
        if type(node) is not list or not all(type(d) is int and d >= 0 for d in node):
            raise CodecError("bad shape")
        return tuple(node)

    def _tensor(self, node: dict) -> torch.Tensor:
        dtype = TORCH_DTYPES.get(node.get("dtype"))  # type: ignore[arg-type]
        if dtype is None:
            raise CodecError(f"unsupported tensor dtype {node.get('dtype')!r}")
        shape = self._shape(node.get("shape"))
        raw = self._buf(node.get("b"))
        numel = math.prod(shape)
        itemsize = dtype.itemsize
        if raw.nbytes != numel * itemsize:
            raise CodecError("tensor buffer does not match its shape")
        if numel == 0:
            return torch.empty(shape, dtype=dtype)
        # A fresh buffer and the exact base class: nothing of the sender's object survives.
        flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
        return flat.view(dtype).reshape(shape)


def encode_message(header: dict, to_handle: Callable[[Any], HandleRef] | None = None,
                   max_bytes: int = 1 << 62) -> list[memoryview | bytes]:
    """Encode a message dict whose ``value``/``args``/``kwargs`` entries may hold any value.

    Returns the payload as a list of chunks (header first, then raw buffers) so that large
    tensors are written without being copied into one bytes object.
    """
    enc = Encoder(to_handle, max_bytes)
    tree = {k: (enc.encode(v) if k in ("value", "args", "kwargs") else v) for k, v in header.items()}
    tree["buffers"] = [b.nbytes for b in enc.buffers]
    head = json.dumps(tree, allow_nan=False, separators=(",", ":")).encode()
    return [PAYLOAD_HEADER.pack(len(head)), head, *enc.buffers]


def decode_message(payload: bytes | bytearray | memoryview,
                   make_handle: Callable[[HandleRef], Any]) -> dict:
    """Decode a payload produced by :func:`encode_message`; raises CodecError if malformed."""
    view = memoryview(payload)
    if view.nbytes < PAYLOAD_HEADER.size:
        raise CodecError("truncated message")
    (head_len,) = PAYLOAD_HEADER.unpack(view[: PAYLOAD_HEADER.size])
    start = PAYLOAD_HEADER.size
    if start + head_len > view.nbytes:
        raise CodecError("truncated message header")
    try:
        tree = json.loads(bytes(view[start: start + head_len]))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message header: {exc}") from None
    if type(tree) is not dict:
        raise CodecError("message header is not an object")
    sizes = tree.pop("buffers", [])
    if type(sizes) is not list or not all(type(s) is int and s >= 0 for s in sizes):
        raise CodecError("bad buffer table")
    buffers = []
    offset = start + head_len
    for size in sizes:
        if offset + size > view.nbytes:
            raise CodecError("truncated message buffers")
        buffers.append(view[offset: offset + size])
        offset += size
    dec = Decoder(buffers, make_handle)
    try:
        return {k: (dec.decode(v) if k in ("value", "args", "kwargs") else v) for k, v in tree.items()}
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise CodecError(f"malformed value: {exc}") from None


def frame_chunks(kind: int, chunks: list[memoryview | bytes]) -> list[memoryview | bytes]:
    """Prefix payload chunks with a frame header."""
    total = sum(memoryview(c).nbytes for c in chunks)
    return [FRAME_HEADER.pack(kind, total), *chunks]
