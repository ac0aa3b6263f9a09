from tests.factories import Api, World


async def test_viewer_after_login(api: Api, world: World) -> None:
    body = await api.as_("manager1a", "{ viewer { staff { username roles } scope { name } } }")
    assert body == {
        "data": {
            "viewer": {
                "staff": {"username": "manager1a", "roles": ["CUSTOMER_MANAGER"]},
                "scope": [{"name": "张庄村"}],
            }
        }
    }
