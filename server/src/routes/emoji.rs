//! `GET /api/emoji`: the reactions people may give.

use actix_web::HttpResponse;
use chat_shared::change::EMOJI;
use serde_json::json;

pub async fn list() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "emoji": EMOJI }))
}
