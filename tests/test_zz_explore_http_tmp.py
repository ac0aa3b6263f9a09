import asyncio, json
from tests.factories import Api, World, gid, PASSWORD
import httpx
from models import Staff, AuditLog

LOGIN = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename ... on AuthError { code field message } } }'

async def test_explore(api: Api, world: World, client: httpx.AsyncClient) -> None:
    tok = await api.token("head")
    h = {"Authorization": f"Bearer {tok}"}
    async def p(q, headers=None, variables=None):
        r = await client.post("/graphql", json={"query": q, "variables": variables or {}}, headers={**h, **(headers or {})})
        print(repr(q[:80]), r.status_code, r.headers.get("content-type"), r.text[:600])
        return r
    for n in range(1983, 1988):
        r = await p("query($t: [String] = [" + '"a" ' * n + "]) { __typename }")
    await p('query($id: ID!) { customers(nodeId: $id) { totalCount } }', variables={"id": "garbage"})
    await p('query($id: ID!) { customers(nodeId: $id) { totalCount } }', variables={"id": 5})
    await p('query($f: Int) { customers(nodeId: "%s", first: $f) { totalCount } }' % gid("GridNode", world.county.id), variables={"f": "x"})
    rs = await asyncio.gather(*[client.post("/graphql", json={"query": LOGIN, "variables": {"u": "manager1a", "p": "wrong"}}) for _ in range(5)])
    print([r.json() for r in rs])
    s = await Staff.get(username="manager1a")
    print(s.failed_logins, s.locked_until)
    r = await client.post("/graphql", json={"query": LOGIN, "variables": {"u": "manager1a", "p": PASSWORD}})
    print(r.json())
    print(await AuditLog.all().values("action", "actor_id", "request_id"))
