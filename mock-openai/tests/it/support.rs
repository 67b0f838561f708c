//! The test client the test modules share: mock-openai on a random local
//! port, spoken to over real HTTP.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::net::TcpListener;

pub use mock_openai::MockState;

pub struct Mock {
    pub base: String,
    pub state: MockState,
    pub http: reqwest::Client,
}

pub async fn start() -> Mock {
    todo_common::install_tls_provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = MockState::new();
    tokio::spawn(mock_openai::serve(listener, state.clone()));
    Mock {
        base,
        state,
        http: reqwest::Client::new(),
    }
}

impl Mock {
    pub async fn post_raw(&self, path: &str, body: &str) -> (StatusCode, HeaderMap, String) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.text().await.expect("body"))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, HeaderMap, Value) {
        let (status, headers, text) = self.post_raw(path, &body.to_string()).await;
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, headers, value)
    }

    pub async fn chat(&self, body: &Value) -> (StatusCode, HeaderMap, Value) {
        self.post("/v1/chat/completions", body).await
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }
}
