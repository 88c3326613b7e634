"""Model artifacts: JSON tables (bins, points, scaling, the inputs they expect), never
code, so loading one cannot run anything. Each is stored with its sha256, and every load
checks it: a changed artifact is refused, and the last good scores stay in place."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from scoring.ml.scorecard import Scorecard

FORMAT = "sesame-scorecard/1"


class ArtifactIntegrityError(Exception):
    """The stored artifact does not match its recorded sha256, or cannot be read."""


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model_version_id: int
    kind: str
    scorecard: Scorecard
    inputs: dict  # {"columns": [...], "id_column": ..., "mapping": {...} for CSV models}


def artifact_dump(*, scorecard: Scorecard, kind: str, inputs: dict) -> bytes:
    document = {"format": FORMAT, "kind": kind, "inputs": inputs, "scorecard": scorecard.to_dict()}
    return json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")


def artifact_sha256(artifact: bytes) -> str:
    return hashlib.sha256(artifact).hexdigest()


def artifact_load(
    *, artifact: bytes, sha256: str, version: str, model_version_id: int
) -> LoadedModel:
    actual = artifact_sha256(bytes(artifact))
    if actual != sha256:
        raise ArtifactIntegrityError(
            f"Model {version}: artifact sha256 {actual[:12]}… does not match the recorded "
            f"{sha256[:12]}…; refusing to load it."
        )
    try:
        document = json.loads(bytes(artifact).decode("utf-8"))
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown format {document.get('format')!r}")
        scorecard = Scorecard.from_dict(document["scorecard"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactIntegrityError(f"Model {version}: unreadable artifact ({exc}).") from None
    return LoadedModel(
        version=version,
        model_version_id=model_version_id,
        kind=document["kind"],
        scorecard=scorecard,
        inputs=document["inputs"],
    )
