"""A ScrollView that redraws its scrollbars only when its own content size changes."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


class QuietScrollView(ScrollView):
    """The compositor hands a ScrollView its viewport as `virtual_size`; ScrollView compares that with
    its own and so re-renders the scrollbars on every screen layout (each Static.update of a panel).
    Only a change of our own virtual size since the last time matters (the process tree and dmesg
    both showed this in the frame-time benchmark)."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        mine = self.virtual_size
        if mine != getattr(self, "_bars_for", None):
            self._bars_for = mine
            return super()._size_updated(size, virtual_size, container_size, layout)
        return super()._size_updated(size, mine, container_size, layout)

    def set_virtual_size(self, size: Size) -> None:
        """Our content size (rows). `virtual_size = ...` relayouts the whole screen; but while the
        vertical scrollbar stays as it was (shown or not), a row more or less moves nothing else on
        screen: then only the scrollbar is told, as Widget._size_updated(layout=False) does. `oomtui
        watch` sees processes come and go nearly every second."""
        old, height = self.virtual_size, self.container_size.height
        if size == old:
            return
        if height and size.width == old.width and (size.height > height) == (old.height > height):
            self.set_reactive(Widget.virtual_size, size)
            self._bars_for = size
            self._scroll_update(size)
            self.refresh()
        else:
            self.virtual_size = size
