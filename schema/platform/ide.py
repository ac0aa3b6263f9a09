"""GraphiQL served from the service itself, so it works on a branch office's network with no way out.

strawberry's own page loads GraphiQL, React and their styles from a CDN; ours loads the same files, at the same
versions, from /graphiql/ on this service. `make install` (and so `make demo` and `make test`) puts them in
ide-assets/ (git-ignored) with `python -m schema.platform.ide install`, which takes each npm package's tarball
with `npm pack` and keeps only the files the page needs, checked against the SHA-384 digests below — the same
digests the page's integrity attributes make the browser check again. GraphiQL's bundle carries its own
graphql-ws client, so subscriptions work from the editor too.
"""

from __future__ import annotations

import base64
import hashlib
import html
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parents[2] / "ide-assets"
ASSETS_URL = "/graphiql"


@dataclass(frozen=True)
class Asset:
    package: str  # name@version, as npm names it
    path: str  # inside the package
    sha384: str  # base64, as in an integrity attribute

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def integrity(self) -> str:
        return f"sha384-{self.sha384}"


REACT = Asset(
    "react@18.2.0", "umd/react.production.min.js", "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"
)
REACT_DOM = Asset(
    "react-dom@18.2.0",
    "umd/react-dom.production.min.js",
    "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
)
GRAPHIQL_JS = Asset(
    "graphiql@3.8.3", "graphiql.min.js", "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
)
GRAPHIQL_CSS = Asset(
    "graphiql@3.8.3", "graphiql.min.css", "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
)
ASSETS = (REACT, REACT_DOM, GRAPHIQL_JS, GRAPHIQL_CSS)

PAGE = """<!doctype html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8" />
    <title>掌上信贷 GraphiQL</title>
    <style>
      body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
      #graphiql {{ height: 100vh; display: flex; }}
    </style>
    <link rel="stylesheet" href="{css}" integrity="{css_integrity}" />
    <script src="{react}" integrity="{react_integrity}"></script>
    <script src="{react_dom}" integrity="{react_dom_integrity}"></script>
  </head>
  <body>
    <div id="graphiql" class="graphiql-container">{missing}</div>
    <script src="{graphiql}" integrity="{graphiql_integrity}"></script>
    <script>
      const url = window.location.href.split("?")[0].split("#")[0];
      const socket = new URL(url);
      socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";
      const fetcher = GraphiQL.createFetcher({{ url, subscriptionUrl: socket.toString() }});
      const start = [
        '# 登录 / sign in: mutation {{ login(username: "…", password: "…") {{ ... on LoginSuccess {{ token }} }} }}',
        '# 然后在 Headers 中填入 / then put in Headers: {{"Authorization": "Bearer <token>"}}',
        "{{ viewer {{ staff {{ username }} }} }}",
      ].join("\\n");
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {{
          fetcher,
          defaultQuery: start,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
          defaultEditorToolsVisibility: true,
        }}),
      );
    </script>
  </body>
</html>
"""


def _url(asset: Asset) -> str:
    return f"{ASSETS_URL}/{asset.name}"


def assets_missing(directory: Path = ASSETS_DIR) -> list[str]:
    return [asset.name for asset in ASSETS if not (directory / asset.name).is_file()]


def page(directory: Path = ASSETS_DIR) -> str:
    """The IDE page; it says plainly when its files were never installed rather than hang on "Loading"."""
    missing = assets_missing(directory)
    notice = (
        html.escape(f"GraphiQL 的文件未安装 / GraphiQL's files are not installed ({', '.join(missing)}): make install")
        if missing
        else "Loading…"
    )
    return PAGE.format(
        css=_url(GRAPHIQL_CSS),
        css_integrity=GRAPHIQL_CSS.integrity,
        react=_url(REACT),
        react_integrity=REACT.integrity,
        react_dom=_url(REACT_DOM),
        react_dom_integrity=REACT_DOM.integrity,
        graphiql=_url(GRAPHIQL_JS),
        graphiql_integrity=GRAPHIQL_JS.integrity,
        missing=notice,
    )


def digest(content: bytes) -> str:
    return base64.b64encode(hashlib.sha384(content).digest()).decode()


def install(directory: Path = ASSETS_DIR) -> None:
    """Fetch the IDE's files with npm into `directory`, each checked against its digest before it is kept."""
    directory.mkdir(parents=True, exist_ok=True)
    packages = sorted({asset.package for asset in ASSETS})
    with tempfile.TemporaryDirectory() as scratch:
        listed = subprocess.run(  # noqa: S603 - fixed arguments, npm from PATH as the Makefile runs it
            ["npm", "pack", "--silent", "--pack-destination", scratch, *packages],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        tarballs = dict(zip(packages, listed, strict=True))
        for asset in ASSETS:
            with tarfile.open(Path(scratch) / tarballs[asset.package]) as tarball:
                member = tarball.extractfile(f"package/{asset.path}")
                if member is None:
                    raise SystemExit(f"{asset.package} has no {asset.path}")
                content = member.read()
            if digest(content) != asset.sha384:
                raise SystemExit(f"{asset.package} {asset.path}: digest {digest(content)} is not {asset.sha384}")
            (directory / asset.name).write_bytes(content)


if __name__ == "__main__":
    if sys.argv[1:2] != ["install"]:
        raise SystemExit("usage: python -m schema.platform.ide install [DIRECTORY]")
    install(Path(sys.argv[2]) if len(sys.argv) > 2 else ASSETS_DIR)
