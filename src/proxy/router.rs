//! Model id → the ordered providers to try. Pure.
//!
//! `provider/model` (split at the first `/` only, so `modelscope/ZhipuAI/GLM-4.6` works), a bare
//! id when exactly one provider serves it, `[routes]` aliases and fallback chains, `codex` and
//! `codex/<model>`, and agents (`aimux:NAME`, `agent:NAME`, or the `x-aimux-agent` header).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::config::{AgentFile, RouteTarget};
use super::registry::{Provider, Registry};

/// One place to send the request: a provider and the model id it knows.
#[derive(Debug, Clone)]
pub struct Target {
    pub provider: Arc<Provider>,
    /// The provider's model id; empty for the `codex` backend's default model.
    pub model: String,
}

impl Target {
    /// `provider/model`, as reported in `x-aimux-route`.
    pub fn route(&self) -> String {
        if self.model.is_empty() {
            self.provider.name.clone()
        } else {
            format!("{}/{}", self.provider.name, self.model)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// Tried in order; the next only when the previous failed before sending a byte.
    pub targets: Vec<Target>,
    pub agent: Option<(String, AgentFile)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl RouteError {
    fn not_found(message: String) -> Self {
        RouteError {
            status: 404,
            code: "model_not_found",
            message,
        }
    }
}

pub struct Router<'a> {
    pub registry: &'a Registry,
    pub routes: &'a BTreeMap<String, RouteTarget>,
    pub agents: &'a BTreeMap<String, AgentFile>,
}

impl Router<'_> {
    pub fn plan(&self, requested: &str, agent_header: Option<&str>) -> Result<Plan, RouteError> {
        let agent_name = agent_header.map(str::to_owned).or_else(|| {
            requested
                .strip_prefix("aimux:")
                .or_else(|| requested.strip_prefix("agent:"))
                .map(str::to_owned)
        });
        if let Some(name) = agent_name {
            let agent = self.agents.get(&name).ok_or_else(|| {
                RouteError::not_found(format!(
                    "unknown agent {name:?}; configured agents: {}",
                    list(self.agents.keys())
                ))
            })?;
            let targets = self.expand(&agent.model)?;
            return Ok(Plan {
                targets,
                agent: Some((name, agent.clone())),
            });
        }
        Ok(Plan {
            targets: self.expand(requested)?,
            agent: None,
        })
    }

    /// A route name expands to its targets (a target may itself name a route, one level deep).
    fn expand(&self, id: &str) -> Result<Vec<Target>, RouteError> {
        let Some(route) = self.routes.get(id) else {
            return Ok(vec![self.single(id)?]);
        };
        let mut out = Vec::new();
        for t in route.targets() {
            match self.routes.get(t) {
                Some(inner) if t != id => {
                    for t2 in inner.targets() {
                        out.push(self.single(t2)?);
                    }
                }
                _ => out.push(self.single(t)?),
            }
        }
        if out.is_empty() {
            return Err(RouteError::not_found(format!(
                "route {id:?} has no targets"
            )));
        }
        Ok(out)
    }

    fn single(&self, id: &str) -> Result<Target, RouteError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(RouteError {
                status: 400,
                code: "invalid_model",
                message: "`model` is empty".into(),
            });
        }
        if let Some((prefix, model)) = id.split_once('/')
            && let Some(provider) = self.registry.get(prefix)
        {
            return Ok(Target {
                provider: provider.clone(),
                model: model.to_owned(),
            });
        }
        if let Some(provider) = self.registry.get(id)
            && provider.is_codex()
        {
            return Ok(Target {
                provider: provider.clone(),
                model: String::new(),
            });
        }
        let serving: Vec<&Arc<Provider>> = self
            .registry
            .providers()
            .filter(|p| p.has_model(id))
            .collect();
        match serving.as_slice() {
            [one] => Ok(Target {
                provider: (*one).clone(),
                model: id.to_owned(),
            }),
            [] => {
                // One model provider and an id it does not list (a model newer than the preset,
                // a local server whose list we have not fetched): unambiguous, so send it there.
                let mut http = self.registry.providers().filter(|p| !p.is_codex());
                match (http.next(), http.next()) {
                    (Some(only), None) => Ok(Target {
                        provider: only.clone(),
                        model: id.to_owned(),
                    }),
                    _ => Err(RouteError::not_found(format!(
                        "no provider serves model {id:?}; address one as provider/model (providers: {})",
                        list(self.registry.providers().map(|p| &p.name))
                    ))),
                }
            }
            many => Err(RouteError {
                status: 400,
                code: "ambiguous_model",
                message: format!(
                    "model {id:?} is served by several providers; pick one: {}",
                    many.iter()
                        .map(|p| format!("{}/{id}", p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(String::as_str).collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::registry::{Credentials, Detected};
    use crate::settings::{Env, FileConfig, parse_file};

    fn setup(toml: &str) -> FileConfig {
        parse_file(toml).unwrap()
    }

    fn routes_of(
        file: &FileConfig,
        env: &Env,
        model: &str,
        agent: Option<&str>,
    ) -> Result<Vec<String>, RouteError> {
        let reg = Registry::build(
            file,
            env,
            &Credentials::default(),
            Detected { codex_ready: true },
        )
        .unwrap();
        let router = Router {
            registry: &reg,
            routes: &file.routes,
            agents: &file.agents,
        };
        router
            .plan(model, agent)
            .map(|p| p.targets.iter().map(Target::route).collect())
    }

    #[test]
    fn resolution_table() {
        let file = setup(
            "[providers.deepseek]\n[providers.openrouter]\n[providers.modelscope]\n[providers.codex]\n\
             [routes]\nfast = \"deepseek/deepseek-chat\"\n\
             smart = [\"deepseek/deepseek-chat\", \"openrouter/deepseek/deepseek-chat\"]\n\
             both = [\"fast\", \"codex\"]\n\
             [agents.coder]\nmodel = \"smart\"\nsystem = \"You write Rust.\"\n",
        );
        let env = Env::default();
        let ok: &[(&str, Option<&str>, &[&str])] = &[
            ("deepseek/deepseek-chat", None, &["deepseek/deepseek-chat"]),
            (
                "modelscope/ZhipuAI/GLM-4.6",
                None,
                &["modelscope/ZhipuAI/GLM-4.6"],
            ),
            ("deepseek-reasoner", None, &["deepseek/deepseek-reasoner"]),
            ("qwen/qwen3-coder", None, &["openrouter/qwen/qwen3-coder"]),
            ("fast", None, &["deepseek/deepseek-chat"]),
            (
                "smart",
                None,
                &[
                    "deepseek/deepseek-chat",
                    "openrouter/deepseek/deepseek-chat",
                ],
            ),
            ("both", None, &["deepseek/deepseek-chat", "codex"]),
            ("codex", None, &["codex"]),
            ("codex/gpt-5", None, &["codex/gpt-5"]),
            (
                "aimux:coder",
                None,
                &[
                    "deepseek/deepseek-chat",
                    "openrouter/deepseek/deepseek-chat",
                ],
            ),
            (
                "agent:coder",
                None,
                &[
                    "deepseek/deepseek-chat",
                    "openrouter/deepseek/deepseek-chat",
                ],
            ),
            (
                "anything",
                Some("coder"),
                &[
                    "deepseek/deepseek-chat",
                    "openrouter/deepseek/deepseek-chat",
                ],
            ),
        ];
        for (model, agent, want) in ok {
            assert_eq!(
                routes_of(&file, &env, model, *agent).unwrap(),
                *want,
                "{model}"
            );
        }
        let bad: &[(&str, &str)] = &[
            ("no-such-model", "model_not_found"),
            ("aimux:nobody", "model_not_found"),
            ("", "invalid_model"),
        ];
        for (model, code) in bad {
            assert_eq!(
                routes_of(&file, &env, model, None).unwrap_err().code,
                *code,
                "{model}"
            );
        }
    }

    #[test]
    fn bare_ids_need_one_provider() {
        let two = setup(
            "[providers.a]\nbase_url = \"http://127.0.0.1:1/v1\"\nmodels = [\"m\"]\n[providers.b]\nbase_url = \"http://127.0.0.1:2/v1\"\nmodels = [\"m\"]\n",
        );
        let err = routes_of(&two, &Env::default(), "m", None).unwrap_err();
        assert_eq!(err.code, "ambiguous_model");
        assert!(
            err.message.contains("a/m") && err.message.contains("b/m"),
            "{}",
            err.message
        );
        let one = setup("[providers.a]\nbase_url = \"http://127.0.0.1:1/v1\"\n");
        assert_eq!(
            routes_of(&one, &Env::default(), "new-model", None).unwrap(),
            ["a/new-model"]
        );
    }
}
