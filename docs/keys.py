"""Print the TUI's key table (Markdown) from the command list, for the README.

    .venv/bin/python docs/keys.py
"""

from oomtui.tui.commands import COMMANDS, OTHER_KEYS


def main() -> None:
    print("| key | command | what it does |")
    print("|---|---|---|")
    for c in COMMANDS:
        keys = c.keys_label() if c.key else "(scripts)"
        keys = " ".join(f"`{k.strip()}`" for k in keys.split(",")) if c.key else keys
        cells = [keys, c.title, c.help()]
        print("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    for keys, title, what in OTHER_KEYS:
        keys = " ".join(f"`{k}`" for k in keys.replace(",", " ").split())
        print(f"| {keys} | {title} | {what} |")


if __name__ == "__main__":
    main()
