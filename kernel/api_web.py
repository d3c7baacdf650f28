"""The web-stack half of the plugin-author API: ``kernel`` loads it on first use.

Every public name imported here is part of the API (stated once, by its import), served by
``kernel.__init__`` lazily, so worker processes importing a plugin's ``work`` module never
load Quart.
"""

from kernel.app import create_app
from kernel.bodies import body_chunks, check_content_length, read_json
from kernel.context import (
    API_PREFIX,
    current_actor,
    get_settings,
    get_storage,
    get_workers,
    label_request,
    media_location,
    media_url,
    open_job,
    plugin_settings,
    quiet_route,
    require_access,
    run_sync,
    runtime,
)
from kernel.errors import (
    BadRequest,
    Forbidden,
    HttpError,
    InsufficientStorage,
    JobTimeout,
    JobTooComplex,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    UnprocessableEntity,
    problem_response,
)
from kernel.fetch import FetchPolicy, fetch_policy, receive_upload_or_url
from kernel.headers import csp_hash, page_policy
from kernel.jobs import Progress, Work
from kernel.jobs_http import run_upload_job
from kernel.observe import request_error, request_jobs, request_labels, route_template
from kernel.privacy import client_address, package_route
from kernel.upload_observers import UploadObserver
from kernel.uploads import decode_file_name, receive_upload
from kernel.workers import Job, Workers
