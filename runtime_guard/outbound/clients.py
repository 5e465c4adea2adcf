"""The wrappers around the HTTP client libraries' send methods, shared by every guard in the process.

A library's class is patched once, however many guards run (a test suite
makes one per app): each guard that watches outbound calls ``hold``s the
patches while it runs and ``release``s them when it stops, and the last one
out restores the original methods.  A wrapper does not know the guards: it
asks the request being served in the calling task or worker thread
(``request_state.current()``) for its guard's ``OutboundWatch``, so a call
made outside any request, or for a guard that does not watch outbound calls,
goes straight to the original.

Only libraries the app has imported are patched (``patch_imported`` looks in
``sys.modules``); the guard calls it at start-up and again whenever the app
has imported more modules, so a library imported late is patched from then on.

Fail-open: whatever goes wrong in the guard's part of a call is logged once
and the call goes on; the app's own exceptions and results pass through
untouched.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime_guard.outbound.faults import fault
from runtime_guard.outbound.libraries import LIBRARIES, Adapter, Target, adapter_for
from runtime_guard.outbound.watch import OutboundCall, OutboundWatch
from runtime_guard.request_state import CURRENT, RequestState, current

__all__ = ["hold", "patch_imported", "patched", "release"]

_ABSENT = object()


_PATCH_ATTRIBUTE = "__runtime_guard_patch__"


@dataclass(eq=False)
class _Patch:
    target: Target
    original: Any
    """What the class itself held under the name (``_ABSENT``: it inherited the method): put back on release."""
    wrapped: Callable[..., Any]
    """What the wrapper calls."""
    wrapper: Any = None
    active: bool = True
    """False once released: a wrapper that could not be taken off (another patch sits on top
    of it) passes every call straight through."""


_lock = threading.Lock()
_holders = 0
_patches: dict[str, list[_Patch]] = {}
_given_up: set[str] = set()
"""Libraries imported in a shape the adapters do not know: left alone (logged once)."""


def hold() -> None:
    """A guard starts watching outbound calls: keep the patches in place until it releases them."""
    global _holders
    with _lock:
        _holders += 1


def release() -> None:
    """A guard stops watching: the last one out restores every original method."""
    global _holders
    with _lock:
        _holders = max(_holders - 1, 0)
        if _holders == 0:
            _unpatch_all()


def patched() -> frozenset[str]:
    """The libraries whose send methods are wrapped now."""
    with _lock:
        return frozenset(_patches)


def patch_imported() -> bool:
    """Wrap each library the app has imported and that is not wrapped yet; True when none is left to wait for.

    Never imports a library: one the app has not imported stays pending.
    """
    pending = False
    for library in LIBRARIES:
        if library in _patches or library in _given_up:
            continue
        if library not in sys.modules:
            pending = True
            continue
        with _lock:
            if _holders == 0 or library in _patches or library in _given_up:
                continue
            try:
                done = _patch(library)
            except Exception as exc:  # noqa: BLE001 - fail-open: an unknown version stays unwrapped
                _given_up.add(library)
                fault(f"instrumenting {library}", exc)
                continue
        pending = pending or not done
    return not pending


def _patch(library: str) -> bool:
    adapter = adapter_for(library)
    if adapter is None:
        return False  # imported halfway: looked at again on the next new module
    patches: list[_Patch] = []
    try:
        for target in adapter.targets:
            own = vars(target.owner).get(target.name, _ABSENT)
            leftover = getattr(own, _PATCH_ATTRIBUTE, None)
            if isinstance(leftover, _Patch) and not leftover.active:
                # Ours from an earlier run, put back by a patch that sat on top of it (a mocking
                # library's): step over it rather than wrap the calls twice.
                patch = _Patch(target, leftover.original, leftover.wrapped)
            else:
                patch = _Patch(target, own, getattr(target.owner, target.name))
            patch.wrapper = (_async_wrapper if target.is_async else _sync_wrapper)(adapter, patch.wrapped, patch)
            setattr(patch.wrapper, _PATCH_ATTRIBUTE, patch)
            setattr(target.owner, target.name, patch.wrapper)
            patches.append(patch)
    except BaseException:
        for patch in patches:
            _unpatch(patch)
        raise
    _patches[library] = patches
    return True


def _unpatch_all() -> None:
    for patches in _patches.values():
        for patch in patches:
            _unpatch(patch)
    _patches.clear()


def _unpatch(patch: _Patch) -> None:
    patch.active = False
    owner, name = patch.target.owner, patch.target.name
    if vars(owner).get(name) is not patch.wrapper:
        return  # something patched over ours: leave it; ours now passes calls through
    if patch.original is _ABSENT:
        delattr(owner, name)
    else:
        setattr(owner, name, patch.original)


# -- the wrappers --------------------------------------------------------------------


def _watching(patch: _Patch) -> tuple[OutboundWatch, RequestState] | None:
    """The watch of the guard serving the calling task's request, if it watches outbound calls."""
    if not patch.active:
        return None
    state = current()
    if state is None:
        return None
    watch = state.outbound
    return None if watch is None else (watch, state)


def _begin(
    adapter: Adapter,
    watching: tuple[OutboundWatch, RequestState],
    client: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    caller: types.FrameType | None,
) -> OutboundCall | None:
    try:
        info = adapter.describe(client, args, kwargs)
        if info is None:
            return None
        watch, state = watching
        return watch.begin(adapter.library, info, state, CURRENT.get(), caller)
    except Exception as exc:  # noqa: BLE001 - fail-open: the call goes out unobserved
        fault(f"observing a {adapter.library} call", exc)
        return None


def _returned(adapter: Adapter, watch: OutboundWatch, call: OutboundCall, result: Any, caller: types.FrameType | None) -> None:
    try:
        watch.end(call, caller, adapter.result_failure(result), succeeded=True)
    except Exception as exc:  # noqa: BLE001 - fail-open: the app gets its response regardless
        fault(f"observing the end of a {adapter.library} call", exc)


def _raised(adapter: Adapter, watch: OutboundWatch, call: OutboundCall, exc: BaseException, caller: types.FrameType | None) -> None:
    try:
        watch.end(call, caller, adapter.exception_failure(exc), succeeded=False)
    except Exception as inner:  # noqa: BLE001 - fail-open: the app gets its own exception regardless
        fault(f"observing the end of a {adapter.library} call", inner)


def _sync_wrapper(adapter: Adapter, original: Callable[..., Any], patch: _Patch) -> Callable[..., Any]:
    @functools.wraps(original)
    def observed(self: Any, *args: Any, **kwargs: Any) -> Any:
        watching = _watching(patch)
        if watching is None:
            return original(self, *args, **kwargs)
        caller = sys._getframe(1)
        call = _begin(adapter, watching, self, args, kwargs, caller)
        if call is None:
            return original(self, *args, **kwargs)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            _raised(adapter, watching[0], call, exc, caller)
            raise
        _returned(adapter, watching[0], call, result, caller)
        return result

    return observed


def _async_wrapper(adapter: Adapter, original: Callable[..., Any], patch: _Patch) -> Callable[..., Any]:
    @functools.wraps(original)
    async def observed(self: Any, *args: Any, **kwargs: Any) -> Any:
        watching = _watching(patch)
        if watching is None:
            return await original(self, *args, **kwargs)
        caller = sys._getframe(1)
        call = _begin(adapter, watching, self, args, kwargs, caller)
        if call is None:
            return await original(self, *args, **kwargs)
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as exc:
            _raised(adapter, watching[0], call, exc, caller)
            raise
        _returned(adapter, watching[0], call, result, caller)
        return result

    return observed
