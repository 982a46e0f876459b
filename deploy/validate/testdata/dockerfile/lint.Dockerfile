# "as" in lower case and MAINTAINER: BuildKit's lint rules flag both.
FROM golang:1.26 as build
MAINTAINER someone
RUN go build -o /out/app .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER nonroot
HEALTHCHECK CMD ["/app", "probe", "live"]
