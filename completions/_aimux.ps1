
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'aimux' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'aimux'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'aimux' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'One shot: start the link in the background (or reuse it), set up Codex, check everything')
            [CompletionResult]::new('bridge', 'bridge', [CompletionResultType]::ParameterValue, 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Serve the credential-holding router: Chat Completions routed by model to providers')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'List the models the proxy can route to, and which provider serves each')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Usage per day and per model from the usage store')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the proxy and the bridge, supervised: restarted when they crash, stopped together')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running `aimux start`: its children drain in-flight requests, then everything exits')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the logs of the supervised children (`$AIMUX_HOME/logs/`)')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS)')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Write the Codex profile and model catalog, so `codex -p aimux` uses aimux')
            [CompletionResult]::new('gen-catalog', 'gen-catalog', [CompletionResultType]::ParameterValue, 'Build the Codex model catalog from the models aimux can route to')
            [CompletionResult]::new('desktop', 'desktop', [CompletionResultType]::ParameterValue, 'Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back')
            [CompletionResult]::new('websearch', 'websearch', [CompletionResultType]::ParameterValue, 'Turn web search on or off, for aimux and for `codex -p aimux`')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print shell exports that point OpenAI-compatible tools at the bridge')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the whole link, read-only: Codex, its profile and catalog, aimux''s config, the bridge, the proxy, each provider, and one real round trip')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;up' {
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The default model for `codex -p aimux` (as `aimux setup --model`): a routable id such as `provider/model`. Without it, the profile''s model is kept if still routable')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Check without the round trip and without probing providers beyond this machine')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;bridge' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to bind [env: AIMUX_BRIDGE_HOST] [default: 127.0.0.1]. A non-loopback address needs a token')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to bind; 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]')
            [CompletionResult]::new('--upstream', '--upstream', [CompletionResultType]::ParameterName, 'Chat Completions base URL, e.g. http://127.0.0.1:8404/v1 (the bridge posts to `{URL}/chat/completions`) [env: AIMUX_UPSTREAM] [default: http://127.0.0.1:8404/v1]')
            [CompletionResult]::new('--server-info', '--server-info', [CompletionResultType]::ParameterName, 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Require `Authorization: Bearer T` from clients [env: AIMUX_TOKEN]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;proxy' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to bind [env: AIMUX_PROXY_HOST] [default: 127.0.0.1]. A non-loopback address needs a token')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to bind; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]')
            [CompletionResult]::new('--server-info', '--server-info', [CompletionResultType]::ParameterName, 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;models' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON (the proxy''s `/v1/models` list) instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;usage' {
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'How many days back, today included')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;start' {
            [CompletionResult]::new('--bridge-port', '--bridge-port', [CompletionResultType]::ParameterName, 'Port for the bridge (what Codex and other tools talk to); 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]')
            [CompletionResult]::new('--proxy-port', '--proxy-port', [CompletionResultType]::ParameterName, 'Port for the proxy; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Run the supervisor in the background; return once both children are ready')
            [CompletionResult]::new('--detached-child', '--detached-child', [CompletionResultType]::ParameterName, 'Internal: this process is the background supervisor started by `--detach`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;stop' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a graceful stop before killing the processes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;status' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;logs' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many of the last lines to show first')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'How many of the last lines to show first')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new lines as they are written (Ctrl-C to quit)')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new lines as they are written (Ctrl-C to quit)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;daemon' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Write the user service (no secrets in it), enable it at login and start it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop and disable the user service and remove its file')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'What the service manager says about the aimux service')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;daemon;install' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;daemon;uninstall' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;daemon;status' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;daemon;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Write the user service (no secrets in it), enable it at login and start it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop and disable the user service and remove its file')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'What the service manager says about the aimux service')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;daemon;help;install' {
            break
        }
        'aimux;daemon;help;uninstall' {
            break
        }
        'aimux;daemon;help;status' {
            break
        }
        'aimux;daemon;help;help' {
            break
        }
        'aimux;setup' {
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The default model: a routable id (`provider/model`, a route or `aimux:AGENT`; a bare model id works when one provider serves it). Without it, the profile''s current model is kept if still routable, else the catalog''s first')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Where Codex reads the catalog: `file` (model_catalog_json) or `url` (the bridge''s `/v1/aimux/catalog`, via model_catalog_url) [default: what the profile uses, else file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;gen-catalog' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write the catalog (`-` for stdout) [default: $CODEX_HOME/aimux-catalog.json]')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Write nothing; exit 1 when the file differs from what would be written')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;desktop' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Switch it on')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'Switch it off')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print `on` or `off` (details on stderr)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;desktop;on' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;desktop;off' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;desktop;status' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;desktop;help' {
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Switch it on')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'Switch it off')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print `on` or `off` (details on stderr)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;desktop;help;on' {
            break
        }
        'aimux;desktop;help;off' {
            break
        }
        'aimux;desktop;help;status' {
            break
        }
        'aimux;desktop;help;help' {
            break
        }
        'aimux;websearch' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Switch it on')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'Switch it off')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print `on` or `off` (details on stderr)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;websearch;on' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;websearch;off' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;websearch;status' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;websearch;help' {
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Switch it on')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'Switch it off')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print `on` or `off` (details on stderr)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;websearch;help;on' {
            break
        }
        'aimux;websearch;help;off' {
            break
        }
        'aimux;websearch;help;status' {
            break
        }
        'aimux;websearch;help;help' {
            break
        }
        'aimux;env' {
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Shell syntax [default: fish when $SHELL is fish, else bash/zsh]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;doctor' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as JSON on stdout: `{schema_version, aimux_version, status, offline, counts, checks: [{id, status, summary, details, hint}]}`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Skip the round trip and the probes of providers beyond this machine (no request leaves it, no tokens are spent)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;completions' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aimux;help' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'One shot: start the link in the background (or reuse it), set up Codex, check everything')
            [CompletionResult]::new('bridge', 'bridge', [CompletionResultType]::ParameterValue, 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Serve the credential-holding router: Chat Completions routed by model to providers')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'List the models the proxy can route to, and which provider serves each')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Usage per day and per model from the usage store')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the proxy and the bridge, supervised: restarted when they crash, stopped together')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running `aimux start`: its children drain in-flight requests, then everything exits')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the logs of the supervised children (`$AIMUX_HOME/logs/`)')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS)')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Write the Codex profile and model catalog, so `codex -p aimux` uses aimux')
            [CompletionResult]::new('gen-catalog', 'gen-catalog', [CompletionResultType]::ParameterValue, 'Build the Codex model catalog from the models aimux can route to')
            [CompletionResult]::new('desktop', 'desktop', [CompletionResultType]::ParameterValue, 'Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back')
            [CompletionResult]::new('websearch', 'websearch', [CompletionResultType]::ParameterValue, 'Turn web search on or off, for aimux and for `codex -p aimux`')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print shell exports that point OpenAI-compatible tools at the bridge')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the whole link, read-only: Codex, its profile and catalog, aimux''s config, the bridge, the proxy, each provider, and one real round trip')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aimux;help;up' {
            break
        }
        'aimux;help;bridge' {
            break
        }
        'aimux;help;proxy' {
            break
        }
        'aimux;help;models' {
            break
        }
        'aimux;help;usage' {
            break
        }
        'aimux;help;start' {
            break
        }
        'aimux;help;stop' {
            break
        }
        'aimux;help;status' {
            break
        }
        'aimux;help;logs' {
            break
        }
        'aimux;help;daemon' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Write the user service (no secrets in it), enable it at login and start it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop and disable the user service and remove its file')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'What the service manager says about the aimux service')
            break
        }
        'aimux;help;daemon;install' {
            break
        }
        'aimux;help;daemon;uninstall' {
            break
        }
        'aimux;help;daemon;status' {
            break
        }
        'aimux;help;setup' {
            break
        }
        'aimux;help;gen-catalog' {
            break
        }
        'aimux;help;desktop' {
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Switch it on')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'Switch it off')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print `on` or `off` (details on stderr)')
            break
        }
        'aimux;help;desktop;on' {
            break
        }
        'aimux;help;desktop;off' {
            break
        }
        'aimux;help;desktop;status' {
            break
        }
        'aimux;help;websearch' {
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Switch it on')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'Switch it off')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Print `on` or `off` (details on stderr)')
            break
        }
        'aimux;help;websearch;on' {
            break
        }
        'aimux;help;websearch;off' {
            break
        }
        'aimux;help;websearch;status' {
            break
        }
        'aimux;help;env' {
            break
        }
        'aimux;help;doctor' {
            break
        }
        'aimux;help;completions' {
            break
        }
        'aimux;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
