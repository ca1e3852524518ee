//! `wasl`: reads the settings, starts logging, binds the port and runs until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match wasl::settings::Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("wasl cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    wasl::telemetry::init(settings.log_format);
    let addr = SocketAddr::new(settings.bind, settings.port);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("wasl cannot listen on {addr} (WASL_BIND, WASL_PORT): {e}");
            return ExitCode::FAILURE;
        }
    };
    // The port actually bound: `WASL_PORT=0` asks the system for a free one.
    let port = listener.local_addr().map_or(settings.port, |a| a.port());
    let shown = if settings.bind.is_unspecified() {
        format!("localhost:{port}")
    } else {
        SocketAddr::new(settings.bind, port).to_string()
    };
    println!("wasl is running on http://{shown}\n  Dashboard: http://{shown}/dashboard/whatsapp\n  API:       http://{shown}/api/v1\n  API docs:  http://{shown}/api/docs\n  Health:    http://{shown}/health");
    match wasl::launch_with_tcp_listener(settings, listener, wasl::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasl stopped with an error: {e}");
            ExitCode::FAILURE
        }
    }
}
