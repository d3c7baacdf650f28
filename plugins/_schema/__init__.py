"""The API's bodies as attrs classes kept in step with openapi.yaml (a library, not a plugin).

Endpoint groups may build their responses and check their request bodies with these::

    from plugins._schema import SimprintRequest, dump, load

    body = load(SimprintRequest, await read_json(...))   # BadRequest when invalid
    return dump(SimprintResponse(CONTENT_TEXT_V0=[...]))
"""

from plugins._schema.convert import SCHEMAS, converter, dump, load
from plugins._schema.models import (
    FeatureSet,
    Health,
    InlineMetadata,
    IsccDetail,
    IsccMetadata,
    IsccResult,
    PluginInfo,
    Problem,
    Readiness,
    SimprintRequest,
    SimprintResponse,
    Status,
    StorageStatistics,
    Unit,
    UploadResponse,
    WorkerStatistics,
)

__all__ = [
    "SCHEMAS",
    "FeatureSet",
    "Health",
    "InlineMetadata",
    "IsccDetail",
    "IsccMetadata",
    "IsccResult",
    "PluginInfo",
    "Problem",
    "Readiness",
    "SimprintRequest",
    "SimprintResponse",
    "Status",
    "StorageStatistics",
    "Unit",
    "UploadResponse",
    "WorkerStatistics",
    "converter",
    "dump",
    "load",
]
