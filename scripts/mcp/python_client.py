"""The official MCP Python SDK (PyPI `mcp`) against our server.

Connects over Streamable HTTP with a bearer token, initializes, lists the
tools, adds a task and lists it back, then checks the task through the REST
API. Usage: python_client.py MCP_URL API_BASE USER_ID TOKEN
"""

import asyncio
import json
import sys
import urllib.request

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

EXPECTED_TOOLS = {"add_task", "list_tasks", "complete_task", "update_task", "delete_task"}


async def main(mcp_url: str, api: str, user: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(mcp_url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                print(f"initialized: {init.server_info.name} {init.server_info.version}, "
                      f"protocol {init.protocol_version}")
                tools = {t.name for t in (await session.list_tools()).tools}
                assert tools == EXPECTED_TOOLS, tools
                print(f"tools: {sorted(tools)}")
                added = await session.call_tool("add_task", {"title": "from the python sdk", "priority": "high"})
                assert not added.is_error, added
                task = json.loads(added.content[0].text)
                print(f"added: {task}")
                listed = await session.call_tool("list_tasks", {"status": "pending"})
                page = json.loads(listed.content[0].text)
                titles = [t["title"] for t in page["tasks"]]
                assert "from the python sdk" in titles, titles
                assert page["matching"] == len(titles) == 1, page
                refused = await session.call_tool("complete_task", {"task_id": 999999})
                assert refused.is_error, refused
                print(f"refused as a result: {refused.content[0].text}")

    request = urllib.request.Request(f"{api}/api/{user}/tasks", headers=headers)
    with urllib.request.urlopen(request) as response:
        rest = json.load(response)
    assert [t["title"] for t in rest["tasks"]] == ["from the python sdk"], rest
    print("the task is visible through REST")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
