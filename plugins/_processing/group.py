"""The hooks every processing endpoint group has in common, stated once.

A group's package binds the ones it uses as module attributes (pluggy registers the module)::

    group = ProcessingGroup(SECTION, IsccSettings, "plugins.iscc.routes")
    register_settings = group.register_settings
    worker_init = group.worker_init
    ...
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kernel import Settings, SettingsSpec, hookimpl
from plugins._contract import contract_fragment
from plugins._processing.settings import shared_processing
from plugins._processing.work import init_worker

if TYPE_CHECKING:
    from quart import Blueprint

#: The environment prefix of every built-in group's settings (``ISCC_WEB_<FIELD>``).
ENV_PREFIX = "ISCC_WEB_"


class ProcessingGroup:
    """A processing group's settings table, worker initialiser, blueprint and contract.

    Args:
        section: the group's name: its ``[plugin.<section>]`` table and its contract tag.
        settings_cls: the frozen attrs class of that table.
        routes: the module holding the group's ``blueprint`` (imported when the app is built,
            so worker processes never load the web stack).
        init: what each worker process runs first, given the shared processing settings.
    """

    def __init__(self, section: str, settings_cls: type, routes: str,
                 init: Callable[[dict[str, Any]], None] = init_worker):
        self.section = section
        self.settings_cls = settings_cls
        self.routes = routes
        self.init = init

    @hookimpl
    def register_settings(self) -> SettingsSpec:
        return SettingsSpec(self.section, self.settings_cls, ENV_PREFIX)

    @hookimpl
    def worker_init(self, settings: Settings) -> Callable[[], None]:
        return functools.partial(self.init, shared_processing(settings).worker_config())

    @hookimpl
    def register_blueprints(self, settings: Settings) -> Sequence[Blueprint]:
        return [importlib.import_module(self.routes).blueprint]

    @hookimpl
    def openapi_spec(self, settings: Settings) -> dict:
        return contract_fragment(self.section, settings)
