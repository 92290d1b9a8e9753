"""Maps plugin names to factories (kubernetes pkg/scheduler/framework/runtime/registry.go). The
framework looks plugins up here by the names a profile enables and never imports one itself."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.framework.interfaces import PluginFactory


class DuplicatePluginError(ValueError):
    pass


class UnknownPluginError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class Registry:
    def __init__(self, factories: dict[str, PluginFactory] | None = None) -> None:
        self._factories: dict[str, PluginFactory] = {}
        for name, factory in (factories or {}).items():
            self.register(name, factory)

    def register(self, name: str, factory: PluginFactory) -> None:
        if not name:
            raise ValueError("a plugin needs a name")
        if name in self._factories:
            raise DuplicatePluginError(f"a plugin named {name} already exists")
        self._factories[name] = factory

    def unregister(self, name: str) -> None:
        if name not in self._factories:
            raise UnknownPluginError(f"no plugin named {name} exists")
        del self._factories[name]

    def merge(self, other: Registry) -> None:
        """Adds every plugin of `other`; a name present in both is an error, as in Kubernetes."""
        for name in other:
            self.register(name, other.factory(name))

    def factory(self, name: str) -> PluginFactory:
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownPluginError(f"plugin {name!r} does not exist in the registry") from None

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)
