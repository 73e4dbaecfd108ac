
use builtin;
use str;

set edit:completion:arg-completer[aimux] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'aimux'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'aimux'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand up 'One shot: start the link in the background (or reuse it), set up Codex, check everything'
            cand bridge 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
            cand proxy 'Serve the credential-holding router: Chat Completions routed by model to providers'
            cand models 'List the models the proxy can route to, and which provider serves each'
            cand usage 'Usage per day and per model from the usage store'
            cand start 'Start the proxy and the bridge, supervised: restarted when they crash, stopped together'
            cand stop 'Stop the running `aimux start`: its children drain in-flight requests, then everything exits'
            cand status 'Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served'
            cand logs 'Show the logs of the supervised children (`$AIMUX_HOME/logs/`)'
            cand daemon 'Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS)'
            cand setup 'Write the Codex profile and model catalog, so `codex -p aimux` uses aimux'
            cand gen-catalog 'Build the Codex model catalog from the models aimux can route to'
            cand desktop 'Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back'
            cand websearch 'Turn web search on or off, for aimux and for `codex -p aimux`'
            cand env 'Print shell exports that point OpenAI-compatible tools at the bridge'
            cand doctor 'Check the whole link, read-only: Codex, its profile and catalog, aimux''s config, the bridge, the proxy, each provider, and one real round trip'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;up'= {
            cand --model 'The default model for `codex -p aimux` (as `aimux setup --model`): a routable id such as `provider/model`. Without it, the profile''s model is kept if still routable'
            cand --offline 'Check without the round trip and without probing providers beyond this machine'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;bridge'= {
            cand --host 'Address to bind [env: AIMUX_BRIDGE_HOST] [default: 127.0.0.1]. A non-loopback address needs a token'
            cand --port 'Port to bind; 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]'
            cand --upstream 'Chat Completions base URL, e.g. http://127.0.0.1:8404/v1 (the bridge posts to `{URL}/chat/completions`) [env: AIMUX_UPSTREAM] [default: http://127.0.0.1:8404/v1]'
            cand --server-info 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections'
            cand --token 'Require `Authorization: Bearer T` from clients [env: AIMUX_TOKEN]'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;proxy'= {
            cand --host 'Address to bind [env: AIMUX_PROXY_HOST] [default: 127.0.0.1]. A non-loopback address needs a token'
            cand --port 'Port to bind; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]'
            cand --server-info 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;models'= {
            cand --json 'Print JSON (the proxy''s `/v1/models` list) instead of a table'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;usage'= {
            cand --days 'How many days back, today included'
            cand --json 'Print JSON instead of tables'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;start'= {
            cand --bridge-port 'Port for the bridge (what Codex and other tools talk to); 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]'
            cand --proxy-port 'Port for the proxy; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]'
            cand --detach 'Run the supervisor in the background; return once both children are ready'
            cand --detached-child 'Internal: this process is the background supervisor started by `--detach`'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;stop'= {
            cand --timeout 'Seconds to wait for a graceful stop before killing the processes'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;status'= {
            cand --json 'Print JSON on stdout instead of text'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;logs'= {
            cand -n 'How many of the last lines to show first'
            cand --lines 'How many of the last lines to show first'
            cand -f 'Keep printing new lines as they are written (Ctrl-C to quit)'
            cand --follow 'Keep printing new lines as they are written (Ctrl-C to quit)'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;daemon'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Write the user service (no secrets in it), enable it at login and start it'
            cand uninstall 'Stop and disable the user service and remove its file'
            cand status 'What the service manager says about the aimux service'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;daemon;install'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;daemon;uninstall'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;daemon;status'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;daemon;help'= {
            cand install 'Write the user service (no secrets in it), enable it at login and start it'
            cand uninstall 'Stop and disable the user service and remove its file'
            cand status 'What the service manager says about the aimux service'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;daemon;help;install'= {
        }
        &'aimux;daemon;help;uninstall'= {
        }
        &'aimux;daemon;help;status'= {
        }
        &'aimux;daemon;help;help'= {
        }
        &'aimux;setup'= {
            cand --model 'The default model: a routable id (`provider/model`, a route or `aimux:AGENT`; a bare model id works when one provider serves it). Without it, the profile''s current model is kept if still routable, else the catalog''s first'
            cand --catalog 'Where Codex reads the catalog: `file` (model_catalog_json) or `url` (the bridge''s `/v1/aimux/catalog`, via model_catalog_url) [default: what the profile uses, else file]'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;gen-catalog'= {
            cand --out 'Where to write the catalog (`-` for stdout) [default: $CODEX_HOME/aimux-catalog.json]'
            cand --check 'Write nothing; exit 1 when the file differs from what would be written'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;desktop'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand on 'Switch it on'
            cand off 'Switch it off'
            cand status 'Print `on` or `off` (details on stderr)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;desktop;on'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;desktop;off'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;desktop;status'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;desktop;help'= {
            cand on 'Switch it on'
            cand off 'Switch it off'
            cand status 'Print `on` or `off` (details on stderr)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;desktop;help;on'= {
        }
        &'aimux;desktop;help;off'= {
        }
        &'aimux;desktop;help;status'= {
        }
        &'aimux;desktop;help;help'= {
        }
        &'aimux;websearch'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand on 'Switch it on'
            cand off 'Switch it off'
            cand status 'Print `on` or `off` (details on stderr)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;websearch;on'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;websearch;off'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;websearch;status'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;websearch;help'= {
            cand on 'Switch it on'
            cand off 'Switch it off'
            cand status 'Print `on` or `off` (details on stderr)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;websearch;help;on'= {
        }
        &'aimux;websearch;help;off'= {
        }
        &'aimux;websearch;help;status'= {
        }
        &'aimux;websearch;help;help'= {
        }
        &'aimux;env'= {
            cand --shell 'Shell syntax [default: fish when $SHELL is fish, else bash/zsh]'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;doctor'= {
            cand --json 'Print the report as JSON on stdout: `{schema_version, aimux_version, status, offline, counts, checks: [{id, status, summary, details, hint}]}`'
            cand --offline 'Skip the round trip and the probes of providers beyond this machine (no request leaves it, no tokens are spent)'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;completions'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;help'= {
            cand up 'One shot: start the link in the background (or reuse it), set up Codex, check everything'
            cand bridge 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
            cand proxy 'Serve the credential-holding router: Chat Completions routed by model to providers'
            cand models 'List the models the proxy can route to, and which provider serves each'
            cand usage 'Usage per day and per model from the usage store'
            cand start 'Start the proxy and the bridge, supervised: restarted when they crash, stopped together'
            cand stop 'Stop the running `aimux start`: its children drain in-flight requests, then everything exits'
            cand status 'Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served'
            cand logs 'Show the logs of the supervised children (`$AIMUX_HOME/logs/`)'
            cand daemon 'Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS)'
            cand setup 'Write the Codex profile and model catalog, so `codex -p aimux` uses aimux'
            cand gen-catalog 'Build the Codex model catalog from the models aimux can route to'
            cand desktop 'Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back'
            cand websearch 'Turn web search on or off, for aimux and for `codex -p aimux`'
            cand env 'Print shell exports that point OpenAI-compatible tools at the bridge'
            cand doctor 'Check the whole link, read-only: Codex, its profile and catalog, aimux''s config, the bridge, the proxy, each provider, and one real round trip'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;help;up'= {
        }
        &'aimux;help;bridge'= {
        }
        &'aimux;help;proxy'= {
        }
        &'aimux;help;models'= {
        }
        &'aimux;help;usage'= {
        }
        &'aimux;help;start'= {
        }
        &'aimux;help;stop'= {
        }
        &'aimux;help;status'= {
        }
        &'aimux;help;logs'= {
        }
        &'aimux;help;daemon'= {
            cand install 'Write the user service (no secrets in it), enable it at login and start it'
            cand uninstall 'Stop and disable the user service and remove its file'
            cand status 'What the service manager says about the aimux service'
        }
        &'aimux;help;daemon;install'= {
        }
        &'aimux;help;daemon;uninstall'= {
        }
        &'aimux;help;daemon;status'= {
        }
        &'aimux;help;setup'= {
        }
        &'aimux;help;gen-catalog'= {
        }
        &'aimux;help;desktop'= {
            cand on 'Switch it on'
            cand off 'Switch it off'
            cand status 'Print `on` or `off` (details on stderr)'
        }
        &'aimux;help;desktop;on'= {
        }
        &'aimux;help;desktop;off'= {
        }
        &'aimux;help;desktop;status'= {
        }
        &'aimux;help;websearch'= {
            cand on 'Switch it on'
            cand off 'Switch it off'
            cand status 'Print `on` or `off` (details on stderr)'
        }
        &'aimux;help;websearch;on'= {
        }
        &'aimux;help;websearch;off'= {
        }
        &'aimux;help;websearch;status'= {
        }
        &'aimux;help;env'= {
        }
        &'aimux;help;doctor'= {
        }
        &'aimux;help;completions'= {
        }
        &'aimux;help;help'= {
        }
    ]
    $completions[$command]
}
