"""Materialized-path helpers behind scope checks and counts."""

from domain.grid.paths import ancestor_paths, covering_paths, inside, on_breadcrumb, path_ids


def test_covering_paths_keep_only_the_outermost() -> None:
    assert covering_paths(["/1/7/", "/1/", "/2/5/", "/1/7/42/", "/2/5/"]) == ["/1/", "/2/5/"]
    assert covering_paths([]) == []


def test_ancestors_and_ids_of_a_path() -> None:
    assert ancestor_paths("/1/7/42/") == ["/1/", "/1/7/"]
    assert path_ids("/1/7/42/") == [1, 7, 42]


def test_a_sibling_with_a_longer_id_is_not_inside() -> None:
    # "/1/7/" must not count "/1/70/" as its subtree: the trailing slash is what makes prefixes safe
    assert inside("/1/70/", ["/1/7/"]) is False
    assert inside("/1/7/70/", ["/1/7/"]) is True
    assert on_breadcrumb("/1/", ["/1/7/"]) is True
    assert on_breadcrumb("/1/7/", ["/1/70/"]) is False
