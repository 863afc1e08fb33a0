//! The browser UI, embedded in the binary from `static/`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "../static/"]
struct Assets;

pub async fn serve(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let path = req.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Assets::get(path).ok_or(AppError::NotFound)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            mime.essence_str().to_owned() + charset(&mime),
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::ETAG,
            format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..8])),
        ))
        .body(file.data.into_owned()))
}

fn charset(mime: &mime_guess::Mime) -> &'static str {
    match mime.type_() {
        mime_guess::mime::TEXT => "; charset=utf-8",
        _ if mime.subtype() == mime_guess::mime::JAVASCRIPT || mime.subtype() == "svg" => {
            "; charset=utf-8"
        }
        _ => "",
    }
}
