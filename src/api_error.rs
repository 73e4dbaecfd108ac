//! Errors in OpenAI's shape: `{"error": {"message", "type", "code", "param"}}` with the right status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::bridge::translate::UpstreamError;

/// Boxed: handlers return `Result<_, ApiError>` on hot paths, and a small `Err` keeps them cheap.
#[derive(Debug, Clone)]
pub struct ApiError(Box<Fields>);

#[derive(Debug, Clone)]
pub struct Fields {
    pub status: StatusCode,
    pub kind: String,
    pub code: Option<String>,
    pub message: String,
    pub param: Option<String>,
    pub retry_after: Option<String>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: &str,
        code: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        ApiError(Box::new(Fields {
            status,
            kind: kind.to_owned(),
            code: code.map(str::to_owned),
            message: message.into(),
            param: None,
            retry_after: None,
        }))
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message,
        )
    }

    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    pub fn with_param(mut self, param: Option<&str>) -> Self {
        self.0.param = param.map(str::to_owned);
        self
    }
}

impl From<&UpstreamError> for ApiError {
    fn from(e: &UpstreamError) -> Self {
        ApiError(Box::new(Fields {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY),
            kind: e.kind.clone(),
            code: Some(e.code.clone()),
            message: e.message.clone(),
            param: None,
            retry_after: e.retry_after.clone(),
        }))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let f = *self.0;
        let body = json!({"error": {
            "message": f.message,
            "type": f.kind,
            "code": f.code,
            "param": f.param,
        }});
        let mut response = (f.status, axum::Json(body)).into_response();
        if let Some(value) = f.retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
